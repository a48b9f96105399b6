using Suite.Contracts;

namespace Suite.Chunking;

/// <summary>
/// Walks a result in reading order and yields its structural elements, each with its heading path. Titles (level 0)
/// and section headers (level 1 and more) are not elements of their own: they make the path of what follows them, a
/// header closing every deeper or equal one. A heading that nothing ends up under (another heading of its level follows
/// at once, or the document ends) becomes an element itself, so its words are still in some chunk. Running page headers
/// and footers are left out (they repeat on every page and are out of the text flow, as the Markdown renders them
/// as comments); a picture contributes its description or alternative text when it has one; the form fields come last
/// as a table under "Form fields", as the Markdown renders them.
/// </summary>
internal static class ElementReader
{
    public const string FormFieldsHeading = "Form fields";

    public static IEnumerable<StructuralElement> Read(DocumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var tables = result.Tables.GroupBy(t => t.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var pictures = result.Pictures.GroupBy(p => p.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var headings = new List<OpenHeading>();

        foreach (var block in InReadingOrder(result))
        {
            if (block.Role is BlockRoles.Title or BlockRoles.SectionHeader)
            {
                var text = OneLine(block.Text);
                if (text.Length == 0)
                {
                    continue;
                }

                var level = block.Role == BlockRoles.Title ? 0 : Math.Max(block.Level ?? 1, 1);
                foreach (var closed in Close(headings, level))
                {
                    yield return closed;
                }

                // The headings above this one are in its path: whatever ends up under it carries their words.
                headings.ForEach(h => h.Used = true);
                headings.Add(new OpenHeading(level, text, block));
                continue;
            }

            if (Element(block, Path(headings), tables, pictures) is { } element)
            {
                headings.ForEach(h => h.Used = true);
                yield return element;
            }
        }

        foreach (var closed in Close(headings, int.MinValue))
        {
            yield return closed;
        }

        if (result.FormFields.Count > 0)
        {
            var source = new ChunkSource("form-fields", result.FormFields.Select(f => f.PageNumber ?? 1).Min(), new BoundingBox(0, 0, 0, 0));
            var rows = new List<TableRow> { new("Field | Value", source) };
            rows.AddRange(result.FormFields.Select(f => new TableRow(OneLine(f.Name) + " | " + OneLine(f.Value), source with { Page = f.PageNumber ?? source.Page })));
            yield return new StructuralElement("form_fields", [FormFieldsHeading], source, "") { Rows = rows, HeaderRows = 1 };
        }
    }

    /// <summary>Blocks by the result's reading order, then any block it does not list (in page order), each once.</summary>
    private static IEnumerable<ResultBlock> InReadingOrder(DocumentResult result)
    {
        var byId = new Dictionary<string, ResultBlock>(StringComparer.Ordinal);
        foreach (var block in result.Pages.SelectMany(p => p.Blocks))
        {
            byId.TryAdd(block.Id, block);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in result.ReadingOrder)
        {
            if (byId.TryGetValue(id, out var block) && seen.Add(id))
            {
                yield return block;
            }
        }

        foreach (var block in result.Pages.SelectMany(p => p.Blocks))
        {
            if (seen.Add(block.Id))
            {
                yield return block;
            }
        }
    }

    private static StructuralElement? Element(
        ResultBlock block, IReadOnlyList<string> path, Dictionary<string, ResultTable> tables, Dictionary<string, ResultPicture> pictures)
    {
        var source = new ChunkSource(block.Id, block.PageNumber, block.BoundingBox);
        switch (block.Role)
        {
            case BlockRoles.PageHeader or BlockRoles.PageFooter:
                return null;
            case BlockRoles.Table when block.TableId is not null && tables.TryGetValue(block.TableId, out var table) && table.RowCount > 0 && table.ColumnCount > 0:
                var (rows, header) = Rows(table, source);
                return new StructuralElement(block.Role, path, source, "") { Rows = rows, HeaderRows = header };
            case BlockRoles.Picture:
                var picture = block.PictureId is not null ? pictures.GetValueOrDefault(block.PictureId) : null;
                var description = (picture?.Description ?? picture?.AltText)?.Trim();
                return string.IsNullOrEmpty(description) ? null : new StructuralElement(block.Role, path, source, OneLine(description));
            case BlockRoles.Note:
                // Said as the renderings say it: without it a slide's notes would read as the slide's own text.
                var note = OneLine(block.Text);
                return note.Length == 0 ? null : new StructuralElement(block.Role, path, source, "Speaker notes: " + note);
            default:
                var text = block.Role == BlockRoles.Code ? block.Text.TrimEnd() : block.Text.Trim();
                return text.Length == 0 ? null : new StructuralElement(block.Role, path, source, text);
        }
    }

    /// <summary>
    /// The table's rows as lines, cells joined with " | ". Header rows as the Markdown has them: title rows (one cell
    /// across the table) a line each, the other header rows one line whose columns say every header text above them
    /// ("Pre-Pawn Handgun"), so that a part of a split table still says what each column is; in body rows a spanning
    /// cell's text stands at its top-left position only.
    /// </summary>
    private static (List<TableRow> Rows, int HeaderRows) Rows(ResultTable table, ChunkSource source)
    {
        var cells = table.Cells.Where(c => c.Row >= 0 && c.Row < table.RowCount && c.Column >= 0 && c.Column < table.ColumnCount).ToList();
        var byRow = cells.GroupBy(c => c.Row).ToDictionary(g => g.Key, g => g.ToList());
        var headerRows = Math.Clamp(table.HeaderRows ?? 0, 0, table.RowCount);
        var rows = new List<TableRow>(table.RowCount);
        var titles = 0;
        while (titles < headerRows && byRow.GetValueOrDefault(titles) is [var only] && only.ColumnSpan >= table.ColumnCount)
        {
            rows.Add(new TableRow(OneLine(only.Text), source with { Box = Box([only], table) }));
            titles++;
        }

        if (headerRows > titles)
        {
            var covering = cells.Where(c => c.Row < headerRows && c.Row + c.RowSpan > titles).ToList();
            var columns = Enumerable.Range(0, table.ColumnCount).Select(column => string.Join(' ', covering
                .Where(c => c.Column <= column && column < c.Column + c.ColumnSpan).OrderBy(c => c.Row)
                .Select(c => OneLine(c.Text)).Where(t => t.Length > 0)));
            rows.Add(new TableRow(string.Join(" | ", columns), source with { Box = Box(covering, table) }));
        }

        var header = rows.Count;
        for (var r = headerRows; r < table.RowCount; r++)
        {
            var inRow = byRow.GetValueOrDefault(r) ?? [];
            var texts = new string[table.ColumnCount];
            foreach (var cell in inRow)
            {
                texts[cell.Column] = OneLine(cell.Text);
            }

            rows.Add(new TableRow(string.Join(" | ", texts.Select(t => t ?? "")), source with { Box = Box(inRow, table) }));
        }

        return (rows, header);
    }

    /// <summary>The box around the cells' boxes; the table's when they have none.</summary>
    private static BoundingBox Box(List<TableCell> cells, ResultTable table)
    {
        var boxes = cells.Select(c => c.BoundingBox).OfType<BoundingBox>().ToList();
        return boxes.Count == 0 ? table.BoundingBox
            : new BoundingBox(boxes.Min(b => b.Left), boxes.Min(b => b.Bottom), boxes.Max(b => b.Right), boxes.Max(b => b.Top));
    }

    /// <summary>Closes the open headings at <paramref name="level"/> or deeper; those nothing was put under become elements.</summary>
    private static List<StructuralElement> Close(List<OpenHeading> headings, int level)
    {
        var closed = new List<StructuralElement>();
        while (headings.Count > 0 && headings[^1].Level >= level)
        {
            var heading = headings[^1];
            headings.RemoveAt(headings.Count - 1);
            if (!heading.Used)
            {
                closed.Add(new StructuralElement(heading.Block.Role, Path(headings), new ChunkSource(heading.Block.Id, heading.Block.PageNumber, heading.Block.BoundingBox), heading.Text));
            }
        }

        closed.Reverse();
        return closed;
    }

    private static string[] Path(List<OpenHeading> headings) => headings.Select(h => h.Text).ToArray();

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private sealed class OpenHeading(int level, string text, ResultBlock block)
    {
        public int Level { get; } = level;
        public string Text { get; } = text;
        public ResultBlock Block { get; } = block;
        public bool Used { get; set; }
    }
}
