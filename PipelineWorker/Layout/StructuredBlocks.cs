using System.Globalization;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Layout;

/// <summary>
/// Layout of a page that came with its structure (DOCX, PPTX, HTML, Markdown): its elements become blocks as they are,
/// in document order, with the reader's roles, levels and list nesting. Such a file has no geometry, so each element
/// gets a nominal box: the page's width inside 72 pt margins (a list item indented 18 pt a level), the elements stacked
/// top to bottom in document order. Pictures keep their slot (the pictures stage lists them there) but are not blocks,
/// and a table is one paragraph block with its cells' text, which the tables stage replaces by the table.
/// </summary>
internal static class StructuredBlocks
{
    private const double Margin = 72;
    private const double Indent = 18;

    public static LayoutPage Page(ExtractedPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var elements = page.Elements ?? [];
        var blocks = new List<LayoutItem>(elements.Count);
        for (var i = 0; i < elements.Count; i++)
        {
            var element = elements[i];
            if (element.Role == BlockRoles.Picture)
            {
                continue;
            }

            var text = element.Table is { } table ? TableText(table) : element.Text;
            blocks.Add(new LayoutItem(
                Id(page.Number, i),
                element.Table is null ? element.Role : BlockRoles.Paragraph,
                text,
                Box(page, i),
                0,
                element.Role is BlockRoles.Title or BlockRoles.SectionHeader ? element.Level ?? 0 : null,
                element.ListDepth,
                element.Path,
                element.Ordered));
        }

        return new LayoutPage(page.Number, page.Width, page.Height, LayoutStage.Structure, blocks, Structured: true);
    }

    /// <summary>The block id of element <paramref name="index"/> (from 0) of a page.</summary>
    public static string Id(int page, int index) => string.Create(CultureInfo.InvariantCulture, $"p{page}-e{index + 1}");

    /// <summary>The nominal box of element <paramref name="index"/>: its slot in the stack, indented by its list depth.</summary>
    public static BoundingBox Box(ExtractedPage page, int index)
    {
        ArgumentNullException.ThrowIfNull(page);
        var count = Math.Max(1, page.Elements?.Count ?? 1);
        var usable = Math.Max(1, page.Height - (2 * Margin));
        var slot = usable / count;
        var top = page.Height - Margin - (index * slot);
        var depth = page.Elements is { } e && index < e.Count ? e[index].ListDepth ?? 0 : 0;
        var left = Math.Min(page.Width - Margin - 1, Margin + (depth * Indent));
        return new BoundingBox(
            Checkpoints.Round(left),
            Checkpoints.Round(top - (slot * 0.9)),
            Checkpoints.Round(Math.Max(left + 1, page.Width - Margin)),
            Checkpoints.Round(top));
    }

    private static string TableText(StructuredTable table) =>
        string.Join('\n', table.Cells.GroupBy(c => c.Row).OrderBy(g => g.Key).Select(g => string.Join(" | ", g.OrderBy(c => c.Column).Select(c => c.Text))));
}
