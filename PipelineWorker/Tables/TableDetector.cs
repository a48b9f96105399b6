using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Tables;

/// <summary>A horizontal or vertical line segment drawn on the page (a table ruling), in PDF points.</summary>
internal sealed record Ruling(double X1, double Y1, double X2, double Y2)
{
    public bool IsHorizontal => Math.Abs(Y2 - Y1) < 0.5;
}

/// <summary>A table found on a page: its box, cells (with their spans), how it was found, and how many rows at its top are headers.</summary>
internal sealed record FoundTable(BoundingBox Box, int Rows, int Columns, IReadOnlyList<TableCell> Cells, string Detection, int HeaderRows = 0);

/// <summary>
/// Finds tables on one page, in two ways:
/// <list type="bullet">
/// <item><c>ruling</c>: drawn horizontal and vertical lines that cross form a grid; each grid cell takes the words
/// whose centre lies in it (empty rows and columns, e.g. from double lines, are dropped); where a line is missing
/// between two grid cells they are one cell spanning both (<see cref="TableSpans"/>).</item>
/// <item><c>alignment</c>: at least three consecutive text lines that split, at wide gaps, into at least three
/// short cells whose column spans line up (what tables without rules look like). Text columns do not qualify:
/// their cells hold many words.</item>
/// </list>
/// Both recognise header rows at the top (<see cref="TableHeaders"/>).
/// </summary>
internal static class TableDetector
{
    private const double Tolerance = 2.0;

    public static List<FoundTable> Detect(IReadOnlyList<ExtractedWord> words, IReadOnlyList<Ruling> rulings)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(rulings);
        var tables = FromRulings(words, rulings);
        foreach (var table in FromAlignment(words))
        {
            if (!tables.Any(t => Overlaps(t.Box, table.Box)))
            {
                tables.Add(table);
            }
        }

        return tables;
    }

    /// <summary>Horizontal and vertical segments of a page's drawn paths: lines, thin filled rectangles and rectangle edges.</summary>
    public static List<Ruling> Rulings(IEnumerable<(double X1, double Y1, double X2, double Y2)> lines, IEnumerable<(double Left, double Bottom, double Right, double Top)> rectangles)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(rectangles);
        var result = new List<Ruling>();
        foreach (var (x1, y1, x2, y2) in lines)
        {
            if (Math.Abs(y1 - y2) < 1 && Math.Abs(x2 - x1) >= 3)
            {
                result.Add(new Ruling(Math.Min(x1, x2), (y1 + y2) / 2, Math.Max(x1, x2), (y1 + y2) / 2));
            }
            else if (Math.Abs(x1 - x2) < 1 && Math.Abs(y2 - y1) >= 3)
            {
                result.Add(new Ruling((x1 + x2) / 2, Math.Min(y1, y2), (x1 + x2) / 2, Math.Max(y1, y2)));
            }
        }

        foreach (var (l, b, r, t) in rectangles)
        {
            var w = r - l;
            var h = t - b;
            if (h <= 3 && w >= 3)
            {
                result.Add(new Ruling(l, (b + t) / 2, r, (b + t) / 2));
            }
            else if (w <= 3 && h >= 3)
            {
                result.Add(new Ruling((l + r) / 2, b, (l + r) / 2, t));
            }
            else if (w > 3 && h > 3)
            {
                result.Add(new Ruling(l, b, r, b));
                result.Add(new Ruling(l, t, r, t));
                result.Add(new Ruling(l, b, l, t));
                result.Add(new Ruling(r, b, r, t));
            }
        }

        return result;
    }

    private static List<FoundTable> FromRulings(IReadOnlyList<ExtractedWord> words, IReadOnlyList<Ruling> rulings)
    {
        var horizontal = rulings.Where(r => r.IsHorizontal).ToList();
        var vertical = rulings.Where(r => !r.IsHorizontal).ToList();
        var tables = new List<FoundTable>();
        if (horizontal.Count < 2 || vertical.Count < 2 || rulings.Count > 20_000)
        {
            return tables;
        }

        // Connected groups of crossing segments are table candidates.
        var all = horizontal.Concat(vertical).ToList();
        var parent = Enumerable.Range(0, all.Count).ToArray();
        int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
        for (var i = 0; i < horizontal.Count; i++)
        {
            for (var j = 0; j < vertical.Count; j++)
            {
                if (Crosses(horizontal[i], vertical[j]))
                {
                    parent[Find(i)] = Find(horizontal.Count + j);
                }
            }
        }

        foreach (var group in Enumerable.Range(0, all.Count).GroupBy(Find))
        {
            var hs = group.Where(i => i < horizontal.Count).Select(i => all[i]).ToList();
            var vs = group.Where(i => i >= horizontal.Count).Select(i => all[i]).ToList();
            if (hs.Count < 2 || vs.Count < 2)
            {
                continue;
            }

            var ys = Cluster(hs.Select(h => h.Y1)).OrderDescending().ToList();
            var xs = Cluster(vs.Select(v => v.X1)).Order().ToList();
            if (ys.Count < 2 || xs.Count < 2)
            {
                continue;
            }

            var box = new BoundingBox(xs[0], ys[^1], xs[^1], ys[0]);
            var inside = words.Where(w => Contains(box, Centre(w))).ToList();
            var grid = new List<ExtractedWord>[ys.Count - 1, xs.Count - 1];
            foreach (var word in inside)
            {
                var (cx, cy) = Centre(word);
                var row = ys.FindIndex(y => y < cy) - 1;
                var column = xs.FindIndex(x => x > cx) - 1;
                if (row >= 0 && column >= 0)
                {
                    (grid[row, column] ??= []).Add(word);
                }
            }

            var rows = Enumerable.Range(0, ys.Count - 1).Where(r => Enumerable.Range(0, xs.Count - 1).Any(c => grid[r, c] is not null)).ToList();
            var columns = Enumerable.Range(0, xs.Count - 1).Where(c => rows.Any(r => grid[r, c] is not null)).ToList();
            var filled = rows.Sum(r => columns.Count(c => grid[r, c] is not null));
            if (rows.Count < 2 || columns.Count < 2 || filled < 3)
            {
                continue;
            }

            // A ruled row often holds several text rows (rules every few lines): split it at its text lines when
            // every line has words in at least two columns.
            var bands = new List<TableBand>();
            foreach (var gr in rows)
            {
                var rowWords = columns.SelectMany(c => grid[gr, c] ?? []).ToList();
                var lineBands = new List<List<ExtractedWord>>();
                foreach (var line in Lines(rowWords))
                {
                    // A line with words in one column only continues the text row above it (a wrapped cell).
                    if (lineBands.Count > 0 && columns.Count(c => line.Any(w => grid[gr, c]?.Contains(w) == true)) < 2)
                    {
                        lineBands[^1].AddRange(line);
                    }
                    else
                    {
                        lineBands.Add(line);
                    }
                }

                var split = lineBands.Count > 1;
                foreach (var band in split ? lineBands : [rowWords])
                {
                    var top = split ? band.Max(w => w.Top) : ys[gr];
                    var bottom = split ? band.Min(w => w.Bottom) : ys[gr + 1];
                    bands.Add(new TableBand(gr, bottom, top, split, columns.Select(gc => grid[gr, gc]?.Where(band.Contains).ToList()).ToList()));
                }
            }

            var cells = TableSpans.Cells(bands, columns, xs, ys, hs, vs);
            var headerRows = TableHeaders.Count(cells, bands.Count, columns.Count, bands.Select(b => b.Words.SelectMany(w => w ?? []).ToList()).ToList());
            tables.Add(new FoundTable(box, bands.Count, columns.Count, cells, "ruling", headerRows));
        }

        return tables;
    }

    private static List<FoundTable> FromAlignment(IReadOnlyList<ExtractedWord> words)
    {
        var tables = new List<FoundTable>();
        var lines = Lines(words);
        var rows = lines.Select(l => (Line: l, Cells: Cells(l))).ToList();
        var i = 0;
        while (i < rows.Count)
        {
            if (rows[i].Cells.Count < 2)
            {
                i++;
                continue;
            }

            // A run of consecutive multi-cell lines, close together.
            var j = i + 1;
            while (j < rows.Count && rows[j].Cells.Count >= 2 && Gap(rows[j - 1].Line, rows[j].Line) <= 2.5 * LineHeight(rows[j - 1].Line))
            {
                j++;
            }

            if (j - i >= 3 && ToTable(rows.Skip(i).Take(j - i).Select(r => r.Cells).ToList()) is { } table)
            {
                tables.Add(table);
            }

            i = j;
        }

        return tables;
    }

    private static FoundTable? ToTable(List<List<List<ExtractedWord>>> rows)
    {
        var spans = rows.SelectMany(r => r).Select(c => (Left: c.Min(w => w.Left), Right: c.Max(w => w.Right))).OrderBy(s => s.Left).ToList();
        var columns = new List<(double Left, double Right)>();
        foreach (var span in spans)
        {
            if (columns.Count > 0 && span.Left <= columns[^1].Right + 1)
            {
                columns[^1] = (columns[^1].Left, Math.Max(columns[^1].Right, span.Right));
            }
            else
            {
                columns.Add(span);
            }
        }

        // Table cells are short; the lines of text columns split at their gutters are not.
        var allCells = rows.SelectMany(r => r).ToList();
        var shortCells = allCells.Count(c => c.Count <= 3) / (double)allCells.Count;
        var multiColumnRows = rows.Count(r => r.Count >= 3);
        if (columns.Count < 3 || shortCells < 0.8 || multiColumnRows < rows.Count * 0.6)
        {
            return null;
        }

        var cells = new List<TableCell>();
        for (var r = 0; r < rows.Count; r++)
        {
            var byColumn = rows[r].GroupBy(c => columns.FindIndex(col => c.Min(w => w.Left) >= col.Left - 1 && c.Max(w => w.Right) <= col.Right + 1)).ToDictionary(g => g.Key, g => g.SelectMany(c => c).ToList());
            for (var c = 0; c < columns.Count; c++)
            {
                byColumn.TryGetValue(c, out var inCell);
                cells.Add(new TableCell(r, c, CellText(inCell), inCell is { Count: > 0 } ? Box(inCell) : null));
            }
        }

        var all = rows.SelectMany(r => r).SelectMany(c => c).ToList();
        var headerRows = TableHeaders.Count(cells, rows.Count, columns.Count, rows.Select(r => r.SelectMany(c => c).ToList()).ToList());
        return new FoundTable(Box(all), rows.Count, columns.Count, cells, "alignment", headerRows);
    }

    /// <summary>
    /// Words grouped into lines (vertical centres close), top to bottom, each left to right. Close is measured by the
    /// taller of the word and its line, so that a short glyph such as a hyphen (whose box is only its stroke, below
    /// the line's middle) stays in its line instead of becoming a line of its own.
    /// </summary>
    internal static List<List<ExtractedWord>> Lines(IReadOnlyList<ExtractedWord> words)
    {
        var lines = new List<List<ExtractedWord>>();
        foreach (var word in words.OrderByDescending(w => (w.Top + w.Bottom) / 2))
        {
            var centre = (word.Top + word.Bottom) / 2;
            var height = Math.Max(word.Top - word.Bottom, 1);
            if (lines.Count > 0 && Math.Abs(lines[^1].Average(w => (w.Top + w.Bottom) / 2) - centre) <= Math.Max(height, lines[^1].Max(w => w.Top - w.Bottom)) / 2)
            {
                lines[^1].Add(word);
            }
            else
            {
                lines.Add([word]);
            }
        }

        return lines.Select(l => l.OrderBy(w => w.Left).ToList()).ToList();
    }

    /// <summary>A line split at gaps wider than about two character heights.</summary>
    internal static List<List<ExtractedWord>> Cells(List<ExtractedWord> line)
    {
        var cells = new List<List<ExtractedWord>> { new() { line[0] } };
        var height = LineHeight(line);
        for (var k = 1; k < line.Count; k++)
        {
            if (line[k].Left - line[k - 1].Right > Math.Max(1.5 * height, 8))
            {
                cells.Add([]);
            }

            cells[^1].Add(line[k]);
        }

        return cells;
    }

    private static double LineHeight(List<ExtractedWord> line) => Math.Max(1, line.Max(w => w.Top - w.Bottom));

    private static double Gap(List<ExtractedWord> upper, List<ExtractedWord> lower) => upper.Min(w => w.Bottom) - lower.Max(w => w.Top);

    internal static string CellText(List<ExtractedWord>? words) =>
        words is null ? "" : string.Join('\n', Lines(words).Select(l => string.Join(' ', l.Select(w => w.Text))));

    private static BoundingBox Box(List<ExtractedWord> words) =>
        new(words.Min(w => w.Left), words.Min(w => w.Bottom), words.Max(w => w.Right), words.Max(w => w.Top));

    private static List<double> Cluster(IEnumerable<double> values)
    {
        var result = new List<double>();
        foreach (var v in values.Order())
        {
            if (result.Count == 0 || v - result[^1] > Tolerance)
            {
                result.Add(v);
            }
        }

        return result;
    }

    private static bool Crosses(Ruling h, Ruling v) =>
        v.X1 >= h.X1 - Tolerance && v.X1 <= h.X2 + Tolerance && h.Y1 >= v.Y1 - Tolerance && h.Y1 <= v.Y2 + Tolerance;

    private static (double X, double Y) Centre(ExtractedWord w) => ((w.Left + w.Right) / 2, (w.Bottom + w.Top) / 2);

    private static bool Contains(BoundingBox box, (double X, double Y) p) =>
        p.X >= box.Left && p.X <= box.Right && p.Y >= box.Bottom && p.Y <= box.Top;

    public static bool Overlaps(BoundingBox a, BoundingBox b) =>
        a.Left < b.Right && b.Left < a.Right && a.Bottom < b.Top && b.Bottom < a.Top;
}
