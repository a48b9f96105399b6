using System.Globalization;
using System.Text;
using Suite.Contracts;

namespace Suite.PipelineWorker.Rendering;

/// <summary>The Markdown and plain-text renderings of the result, appended page by page.</summary>
internal static class ResultRendering
{
    /// <summary>
    /// Appends one page: Markdown opens it with <c>&lt;!-- page N --&gt;</c> and renders each block by role (headings as
    /// <c>#</c>, list items as <c>-</c>, tables as pipe tables, pictures as images, page headers and footers as
    /// comments so they stay out of the flow); plain text separates pages with a form feed and tables' cells with tabs.
    /// <paramref name="first"/> says whether this is the document's first page (no separator before it).
    /// </summary>
    public static void AppendPage(
        StringBuilder markdown,
        StringBuilder text,
        bool first,
        int pageNumber,
        IReadOnlyList<ResultBlock> blocks,
        IReadOnlyDictionary<string, ResultTable>? tables = null,
        IReadOnlyDictionary<string, ResultPicture>? pictures = null)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(blocks);

        if (!first)
        {
            markdown.Append('\n');
        }

        markdown.Append(CultureInfo.InvariantCulture, $"<!-- page {pageNumber} -->\n");
        foreach (var block in blocks)
        {
            markdown.Append('\n');
            var table = block.TableId is not null && tables is not null ? tables.GetValueOrDefault(block.TableId) : null;
            var picture = block.PictureId is not null && pictures is not null ? pictures.GetValueOrDefault(block.PictureId) : null;
            AppendMarkdown(markdown, block, table, picture);
        }

        if (!first)
        {
            text.Append('\f');
        }

        var plain = blocks.Select(b => PlainText(b, b.TableId is not null && tables is not null ? tables.GetValueOrDefault(b.TableId) : null)).Where(t => t.Length > 0).ToList();
        text.AppendJoin("\n\n", plain);
        if (plain.Count > 0)
        {
            text.Append('\n');
        }
    }

    private static void AppendMarkdown(StringBuilder markdown, ResultBlock block, ResultTable? table, ResultPicture? picture)
    {
        switch (block.Role)
        {
            case BlockRoles.Title:
                markdown.Append("# ").Append(EscapeInline(OneLine(block.Text))).Append('\n');
                break;
            case BlockRoles.SectionHeader:
                markdown.Append('#', Math.Clamp((block.Level ?? 1) + 1, 2, 6)).Append(' ').Append(EscapeInline(OneLine(block.Text))).Append('\n');
                break;
            case BlockRoles.PageHeader or BlockRoles.PageFooter:
                markdown.Append(CultureInfo.InvariantCulture, $"<!-- {block.Role.Replace('_', ' ')}: {Comment(block.Text)} -->\n");
                break;
            case BlockRoles.ListItem:
                // A stated nesting indents four spaces a level, which nests under "- " and "1. " alike.
                var indent = new string(' ', 4 * Math.Clamp(block.ListDepth ?? 0, 0, 8));
                var lines = block.Text.Split('\n');
                markdown.Append(indent).Append(block.ListOrdered == true ? "1. " : "- ").Append(EscapeMarkdownLine(BulletFree(lines[0]))).Append('\n');
                foreach (var line in lines.Skip(1))
                {
                    markdown.Append(indent).Append("    ").Append(EscapeMarkdownLine(line)).Append('\n');
                }

                break;
            case BlockRoles.Code:
                var fence = new string('`', Math.Max(3, LongestRun(block.Text, '`') + 1));
                markdown.Append(fence).Append('\n').Append(block.Text.TrimEnd('\n')).Append('\n').Append(fence).Append('\n');
                break;
            case BlockRoles.Note:
                markdown.Append("> **Speaker notes:** ").Append(EscapeMarkdownLine(OneLine(block.Text))).Append('\n');
                break;
            case BlockRoles.Table when table is not null:
                AppendTable(markdown, table);
                break;
            case BlockRoles.Picture:
                var alt = EscapeInline(OneLine(picture?.Description ?? picture?.AltText ?? $"Picture {block.PictureId}"));
                markdown.Append(picture?.Url is { } url
                    ? $"![{alt}]({url})\n"
                    : $"<!-- picture {block.PictureId} (no file) -->\n");
                if (picture?.Url is null && (picture?.Description ?? picture?.AltText) is { } description)
                {
                    markdown.Append(EscapeMarkdownLine(OneLine(description))).Append('\n');
                }

                break;
            default:
                foreach (var line in block.Text.Split('\n'))
                {
                    markdown.Append(EscapeMarkdownLine(line)).Append('\n');
                }

                break;
        }
    }

    private static int LongestRun(string text, char c)
    {
        int longest = 0, run = 0;
        foreach (var x in text)
        {
            run = x == c ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>
    /// A pipe table. GitHub-flavoured Markdown has one header row and no spans, so: title rows (one cell across the
    /// table) become a line above it; several header rows become one, each column's header the texts covering it
    /// from the top down ("Pre-Pawn Handgun"); without a recognised header the first row is the header, as before;
    /// in the body a spanning cell's text stands in its top-left position and the positions it covers stay empty
    /// (repeating it would, say, count an amount twice).
    /// </summary>
    private static void AppendTable(StringBuilder markdown, ResultTable table)
    {
        var headerRows = Math.Clamp(table.HeaderRows ?? 0, 0, table.RowCount);
        var titles = 0;
        while (titles < headerRows && table.Cells.Where(c => c.Row == titles).ToList() is [var only] && only.ColumnSpan >= table.ColumnCount)
        {
            markdown.Append(EscapeMarkdownLine(OneLine(only.Text))).Append("\n\n");
            titles++;
        }

        if (titles >= table.RowCount || table.ColumnCount == 0)
        {
            return;
        }

        var grid = Grid(table);
        string[] header;
        int bodyStart;
        if (headerRows > titles)
        {
            header = Enumerable.Range(0, table.ColumnCount).Select(c => string.Join(' ', Enumerable.Range(titles, headerRows - titles)
                .Select(r => Covering(table, r, c)).OfType<TableCell>().Distinct().Select(cell => OneLine(cell.Text)).Where(t => t.Length > 0))).ToArray();
            bodyStart = headerRows;
        }
        else
        {
            header = Enumerable.Range(0, table.ColumnCount).Select(c => grid[titles, c] ?? "").ToArray();
            bodyStart = titles + 1;
        }

        AppendPipeRow(markdown, header.Select(EscapeInline));
        AppendPipeRow(markdown, Enumerable.Repeat("---", table.ColumnCount));
        for (var r = bodyStart; r < table.RowCount; r++)
        {
            AppendPipeRow(markdown, Enumerable.Range(0, table.ColumnCount).Select(c => EscapeInline(grid[r, c] ?? "")));
        }
    }

    private static void AppendPipeRow(StringBuilder markdown, IEnumerable<string> cells)
    {
        markdown.Append('|');
        foreach (var cell in cells)
        {
            markdown.Append(' ').Append(cell).Append(" |");
        }

        markdown.Append('\n');
    }

    /// <summary>Each cell's text (on one line) at its top-left grid position; positions a spanning cell covers are null.</summary>
    private static string?[,] Grid(ResultTable table)
    {
        var grid = new string?[table.RowCount, table.ColumnCount];
        foreach (var cell in table.Cells)
        {
            if (cell.Row < table.RowCount && cell.Column < table.ColumnCount)
            {
                grid[cell.Row, cell.Column] = OneLine(cell.Text);
            }
        }

        return grid;
    }

    /// <summary>The cell whose span covers grid position (row, column), if any.</summary>
    private static TableCell? Covering(ResultTable table, int row, int column) =>
        table.Cells.FirstOrDefault(c => c.Row <= row && row < c.Row + c.RowSpan && c.Column <= column && column < c.Column + c.ColumnSpan);

    private static string PlainText(ResultBlock block, ResultTable? table)
    {
        if (table is null)
        {
            return block.Text;
        }

        // Every grid position gets its tab, covered ones empty, so that columns stay in place.
        var grid = Grid(table);
        return string.Join('\n', Enumerable.Range(0, table.RowCount)
            .Select(r => string.Join('\t', Enumerable.Range(0, table.ColumnCount).Select(c => grid[r, c] ?? ""))));
    }

    /// <summary>The text of a table block: rows on lines, cells separated by " | ".</summary>
    public static string TableText(ResultTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return string.Join('\n', table.Cells.GroupBy(c => c.Row).OrderBy(g => g.Key)
            .Select(g => string.Join(" | ", g.OrderBy(c => c.Column).Select(c => OneLine(c.Text)))));
    }

    internal static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Comment(string text) => OneLine(text).Replace("--", "- -", StringComparison.Ordinal);

    /// <summary>A bullet glyph at the start of a list item becomes the Markdown marker itself.</summary>
    private static string BulletFree(string line)
    {
        var trimmed = line.TrimStart();
        return trimmed.Length > 1 && "•◦▪▫‣∙·●○■□►▸➢✓-–—*".Contains(trimmed[0], StringComparison.Ordinal) && char.IsWhiteSpace(trimmed[1])
            ? trimmed[2..].TrimStart()
            : line;
    }

    /// <summary>Escapes inline markup only (for text after a block marker such as # or -).</summary>
    private static string EscapeInline(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    /// <summary>
    /// Escapes what Markdown would read as markup, so the text shows as written: inline markers everywhere,
    /// and block markers (headings, quotes, list items, rules) at the start of a line.
    /// </summary>
    public static string EscapeMarkdownLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var escaped = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        if (escaped.Length > 0 && escaped[0] is '#' or '+' or '-' or '=' or '~')
        {
            escaped.Insert(0, '\\');
        }
        else
        {
            // "1." or "1)" at the start of a line would become an ordered list item.
            var digits = 0;
            while (digits < escaped.Length && char.IsAsciiDigit(escaped[digits]))
            {
                digits++;
            }

            if (digits > 0 && digits < escaped.Length && escaped[digits] is '.' or ')')
            {
                escaped.Insert(digits, '\\');
            }
        }

        return escaped.ToString();
    }
}
