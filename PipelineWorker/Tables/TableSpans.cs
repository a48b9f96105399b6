using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Tables;

/// <summary>
/// The cells of a ruled table with their row and column spans, from where its drawn lines are missing. Only what
/// the drawing shows is merged, and only where the text agrees:
/// <list type="bullet">
/// <item>Columns, within a text row that has some inner vertical lines: a missing line merges the cells on both sides
/// when the line is drawn in the text row just below (the group header above its sub-columns; for the last row, just
/// above).</item>
/// <item>Columns, anywhere: a phrase (words at normal spacing) running across a missing line merges the cells it
/// crosses. A text row above the ruled header, without inner lines, whose every phrase crosses one (a title inside
/// the frame) is one cell across the table.</item>
/// <item>Rows, between ruled rows: cells of the same columns above and below a missing horizontal line merge when
/// exactly one of them has text (a label that spans rows).</item>
/// <item>Within one ruled row split at its text lines: an empty cell above, in a line that has a group cell merged
/// for a line drawn below it (not only for a crossing phrase), belongs to the cells below it (the column labels beside a group header reach up to the top of the header).</item>
/// </list>
/// A merged cell's words must be one text: all in one grid cell, or each of their lines one phrase; otherwise its
/// grid cells stay apart. Text rows that are neither split by lines nor ruled between each other are never merged vertically: a ruled row
/// split into lines has no line between them to be missing. Without any inner vertical line over a text row (tables
/// ruled only in their header), its columns are implied by the grid and only crossing phrases merge.
/// </summary>
internal static class TableSpans
{
    private const double Tolerance = 2.0;

    /// <summary>Cells in row-major order, each listed once at its top-left band and kept column.</summary>
    public static List<TableCell> Cells(
        IReadOnlyList<TableBand> bands, IReadOnlyList<int> columns, IReadOnlyList<double> xs, IReadOnlyList<double> ys,
        IReadOnlyList<Ruling> horizontal, IReadOnlyList<Ruling> vertical)
    {
        ArgumentNullException.ThrowIfNull(bands);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        ArgumentNullException.ThrowIfNull(horizontal);
        ArgumentNullException.ThrowIfNull(vertical);

        var boundaries = Enumerable.Range(0, columns.Count - 1)
            .Select(k => Enumerable.Range(columns[k] + 1, columns[k + 1] - columns[k]).Select(g => xs[g]).ToList())
            .ToList();
        var ruled = bands.Select(band => boundaries.Select(b => b.Any(x => IsVerticallyRuled(vertical, x, band))).ToArray()).ToList();

        // Rows above the first one with an inner line drawn (above the ruled header) may hold a title across the frame.
        var firstRuled = ruled.FindIndex(r => r.Any(x => x));
        var cells = new List<SpanCell>();
        for (var b = 0; b < bands.Count; b++)
        {
            var near = b + 1 < bands.Count ? ruled[b + 1] : b > 0 ? ruled[b - 1] : null;
            cells.AddRange(RowCells(b, bands[b], boundaries, ruled[b], near, aboveHeader: firstRuled < 0 || b < firstRuled));
        }

        AbsorbEmptyGroupCells(bands, cells);
        MergeRows(bands, columns, xs, ys, horizontal, cells);

        return cells
            .OrderBy(c => c.Top).ThenBy(c => c.Start)
            .Select(c => new TableCell(c.Top, c.Start, TableDetector.CellText(c.Words.Count == 0 ? null : c.Words), new BoundingBox(
                xs[columns[c.Start]], bands[c.Bottom].Bottom, xs[columns[c.Start + c.Span - 1] + 1], bands[c.Top].Top))
            {
                RowSpan = c.Bottom - c.Top + 1,
                ColumnSpan = c.Span,
            })
            .ToList();
    }

    /// <summary>One text row's cells: runs of grid cells joined where a line is missing and the rules above allow it.</summary>
    private static List<SpanCell> RowCells(int b, TableBand band, List<List<double>> boundaries, bool[] ruled, bool[]? near, bool aboveHeader)
    {
        var phrases = TableDetector.Lines(band.Words.SelectMany(w => w ?? []).ToList())
            .SelectMany(TableDetector.Cells)
            .Select(p => (Left: p.Min(w => w.Left), Right: p.Max(w => w.Right)))
            .ToList();
        var crossed = boundaries.Select((xsOfBoundary, k) => !ruled[k] && xsOfBoundary.Any(x =>
            phrases.Any(p => p.Left < x - Tolerance && p.Right > x + Tolerance))).ToArray();
        var anyInner = ruled.Any(r => r);
        var columnCount = band.Words.Count;

        if (aboveHeader && !anyInner && columnCount > 1 && phrases.Count > 0
            && phrases.All(p => boundaries.Any(bx => bx.Any(x => p.Left < x - Tolerance && p.Right > x + Tolerance))))
        {
            return [Cell(b, band, 0, columnCount)];
        }

        var grouped = crossed.Select((c, k) => anyInner && !ruled[k] && near is not null && near[k]).ToArray();
        var merge = crossed.Select((c, k) => c || grouped[k]).ToArray();
        var result = new List<SpanCell>();
        foreach (var (start, span) in Runs(merge, columnCount))
        {
            if (span > 1 && !OneText(band, start, span))
            {
                // The missing line does not make the texts on both sides one (an amount beside an overflowing
                // description, say): the grid's cells stay apart.
                result.AddRange(Enumerable.Range(start, span).Select(c => Cell(b, band, c, 1)));
                continue;
            }

            var cell = Cell(b, band, start, span);
            cell.Grouped = grouped[start..(start + span - 1)].Any(g => g);
            result.Add(cell);
        }

        return result;
    }

    /// <summary>The words of a merged cell are one text: all in one grid cell, or each of their lines one phrase.</summary>
    private static bool OneText(TableBand band, int start, int span)
    {
        var filled = Enumerable.Range(start, span).Where(c => band.Words[c] is { Count: > 0 }).ToList();
        return filled.Count <= 1
            || TableDetector.Lines(filled.SelectMany(c => band.Words[c]!).ToList()).All(line => TableDetector.Cells(line).Count == 1);
    }

    /// <summary>
    /// In a ruled row split at its text lines, a line holding a merged group cell (a header over sub-columns) leaves
    /// its other cells empty: those belong to the labels below them, which then span both lines.
    /// </summary>
    private static void AbsorbEmptyGroupCells(IReadOnlyList<TableBand> bands, List<SpanCell> cells)
    {
        for (var b = 0; b + 1 < bands.Count; b++)
        {
            if (bands[b + 1].RuledRow != bands[b].RuledRow
                || !cells.Any(c => c.Top == b && c.Bottom == b && c.Grouped && c.Words.Count > 0))
            {
                continue;
            }

            foreach (var empty in cells.Where(c => c.Top == b && c.Bottom == b && c.Words.Count == 0).ToList())
            {
                var below = cells.Where(c => c.Top == b + 1 && c.Start < empty.Start + empty.Span && empty.Start < c.Start + c.Span).ToList();
                var tiles = below.Count > 0
                    && below.All(c => c.Start >= empty.Start && c.Start + c.Span <= empty.Start + empty.Span)
                    && below.Sum(c => c.Span) == empty.Span;
                if (tiles)
                {
                    cells.Remove(empty);
                    below.ForEach(c => c.Top = b);
                }
            }
        }
    }

    /// <summary>Cells of the same columns on both sides of a missing horizontal line between ruled rows, one of them empty, merge.</summary>
    private static void MergeRows(
        IReadOnlyList<TableBand> bands, IReadOnlyList<int> columns, IReadOnlyList<double> xs, IReadOnlyList<double> ys,
        IReadOnlyList<Ruling> horizontal, List<SpanCell> cells)
    {
        for (var b = 0; b + 1 < bands.Count; b++)
        {
            var upperRow = bands[b].RuledRow;
            var lowerRow = bands[b + 1].RuledRow;
            if (upperRow == lowerRow)
            {
                continue;
            }

            foreach (var upper in cells.Where(c => c.Bottom == b).ToList())
            {
                var lower = cells.FirstOrDefault(c => c.Top == b + 1 && c.Start == upper.Start && c.Span == upper.Span);
                if (lower is null || (upper.Words.Count > 0) == (lower.Words.Count > 0))
                {
                    continue;
                }

                var left = xs[columns[upper.Start]];
                var right = xs[columns[upper.Start + upper.Span - 1] + 1];
                var open = Enumerable.Range(upperRow + 1, lowerRow - upperRow).All(g => !IsHorizontallyRuled(horizontal, ys[g], left, right));
                if (open)
                {
                    upper.Bottom = lower.Bottom;
                    upper.Words.AddRange(lower.Words);
                    cells.Remove(lower);
                }
            }
        }
    }

    private static SpanCell Cell(int band, TableBand row, int start, int span) => new()
    {
        Top = band,
        Bottom = band,
        Start = start,
        Span = span,
        Words = Enumerable.Range(start, span).SelectMany(c => row.Words[c] ?? []).ToList(),
    };

    /// <summary>Runs of columns joined where <paramref name="merge"/> is true (boundary k joins columns k and k+1).</summary>
    private static IEnumerable<(int Start, int Span)> Runs(bool[] merge, int columnCount)
    {
        var start = 0;
        for (var c = 0; c < columnCount; c++)
        {
            if (c == columnCount - 1 || !merge[c])
            {
                yield return (start, c - start + 1);
                start = c + 1;
            }
        }
    }

    /// <summary>Vertical lines at <paramref name="x"/> cover at least half of the text row's height (its text lines' when split).</summary>
    private static bool IsVerticallyRuled(IReadOnlyList<Ruling> vertical, double x, TableBand band)
    {
        var (low, high) = band.Split ? (band.Bottom + 0.5, band.Top - 0.5) : (band.Bottom + Tolerance, band.Top - Tolerance);
        return Covered(vertical.Where(v => Math.Abs(v.X1 - x) <= Tolerance).Select(v => (v.Y1, v.Y2)), low, high);
    }

    /// <summary>Horizontal lines at <paramref name="y"/> cover at least half of the cell's width.</summary>
    private static bool IsHorizontallyRuled(IReadOnlyList<Ruling> horizontal, double y, double left, double right) =>
        Covered(horizontal.Where(h => Math.Abs(h.Y1 - y) <= Tolerance).Select(h => (h.X1, h.X2)), left + Tolerance, right - Tolerance);

    private static bool Covered(IEnumerable<(double From, double To)> segments, double low, double high)
    {
        if (high <= low)
        {
            return segments.Any(s => s.From <= high && s.To >= low);
        }

        var covered = 0.0;
        var reached = low;
        foreach (var (from, to) in segments.Select(s => (Math.Max(s.From, low), Math.Min(s.To, high))).Where(s => s.Item2 > s.Item1).OrderBy(s => s.Item1))
        {
            var start = Math.Max(from, reached);
            if (to > start)
            {
                covered += to - start;
                reached = to;
            }
        }

        return covered >= (high - low) * 0.5;
    }

    private sealed class SpanCell
    {
        public int Top { get; set; }
        public int Bottom { get; set; }
        public int Start { get; init; }
        public int Span { get; init; }
        public List<ExtractedWord> Words { get; init; } = [];

        /// <summary>Merged because a line drawn just below stops here (a group header), not only by a crossing phrase.</summary>
        public bool Grouped { get; set; }
    }
}
