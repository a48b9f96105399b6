using System.Globalization;
using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// Markdown with Markdig (CommonMark with pipe tables), its syntax tree walked directly (never rendered to HTML): one
/// page; headings (# the <c>title</c>, ## and deeper <c>section_header</c> of level N-1), paragraphs, list items with
/// their nesting and numbering, pipe tables with their header row, fenced and indented code as <c>code</c>, images with
/// their alt text (a <c>data:</c> PNG or JPEG up to 1 MiB is kept as bytes; a link is only a reference, never fetched)
/// and their title as a caption; block quotes are read through; raw HTML blocks are left out. Nesting is checked on the
/// raw text first and the tree walked with an explicit stack. Provenance: the block's path and line
/// (<c>/list[2]/item[1]/paragraph[1]@L14</c>).
/// </summary>
internal sealed class MarkdownReader(IOptions<ReaderOptions> options) : PagedDocumentReader
{
    private const double Width = 612;
    private const double Height = 792;
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public override IReadOnlyList<string> Formats { get; } = [DocumentFormats.Markdown];

    public override string Extractor => PageExtractors.Markdig;

    public override int Probe(string path, CancellationToken cancellationToken)
    {
        MarkupNesting.CheckMarkdown(File.ReadAllText(path), options.Value.MaxNestingDepth);
        return 1;
    }

    public override IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken)
    {
        var source = File.ReadAllText(path);
        var limits = options.Value;
        MarkupNesting.CheckMarkdown(source, limits.MaxNestingDepth);
        var document = Markdown.Parse(source, Pipeline);
        var budget = new ElementBudget(limits.MaxElements, "Markdown");
        var elements = new List<StructuredElement>();
        var stack = new Stack<(Block Block, string Path, int Depth, int ListDepth)>();
        PushChildren(stack, document, "", 0, -1);
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (block, blockPath, depth, listDepth) = stack.Pop();
            if (depth > limits.MaxNestingDepth)
            {
                throw MarkupNesting.TooDeep("Markdown", $"blocks are nested more than {limits.MaxNestingDepth} deep");
            }

            var at = string.Create(CultureInfo.InvariantCulture, $"{blockPath}@L{block.Line + 1}");
            switch (block)
            {
                case HeadingBlock heading:
                    var level = Math.Clamp(heading.Level, 1, 6) - 1;
                    elements.Add(budget.Take(new StructuredElement(level == 0 ? BlockRoles.Title : BlockRoles.SectionHeader, InlineText(heading.Inline), at, Level: level)));
                    break;
                case ParagraphBlock paragraph when paragraph.Parent is ListItemBlock item && item.FirstOrDefault() == paragraph:
                    var list = (ListBlock)item.Parent!;
                    AddImages(paragraph.Inline, at, elements, budget);
                    elements.Add(budget.Take(new StructuredElement(BlockRoles.ListItem, InlineText(paragraph.Inline), at, ListDepth: Math.Max(0, listDepth), Ordered: list.IsOrdered)));
                    break;
                case ParagraphBlock paragraph:
                    AddImages(paragraph.Inline, at, elements, budget);
                    if (InlineText(paragraph.Inline) is { Length: > 0 } text)
                    {
                        elements.Add(budget.Take(new StructuredElement(BlockRoles.Paragraph, text, at)));
                    }

                    break;
                case CodeBlock code:
                    elements.Add(budget.Take(new StructuredElement(BlockRoles.Code, code.Lines.ToString(), at)));
                    break;
                case Table table:
                    elements.Add(budget.Take(new StructuredElement(BlockRoles.Table, "", at, Table: ReadTable(table))));
                    break;
                case ListBlock:
                    PushChildren(stack, (ContainerBlock)block, blockPath, depth, listDepth + 1);
                    break;
                case ContainerBlock container:
                    PushChildren(stack, container, blockPath, depth, listDepth);
                    break;
            }
        }

        yield return new ExtractedPage(1, Width, Height, [], Extractor: Extractor, Elements: elements);
    }

    public override string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken) => DataUri.Copy(part, destination);

    private static void PushChildren(Stack<(Block, string, int, int)> stack, ContainerBlock container, string path, int depth, int listDepth)
    {
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        var children = new List<(Block, string, int, int)>();
        foreach (var child in container)
        {
            var kind = child switch
            {
                HeadingBlock => "heading",
                ParagraphBlock => "paragraph",
                ListBlock => "list",
                ListItemBlock => "item",
                CodeBlock => "code",
                Table => "table",
                QuoteBlock => "quote",
                _ => "block",
            };
            var index = counters[kind] = counters.GetValueOrDefault(kind) + 1;
            children.Add((child, string.Create(CultureInfo.InvariantCulture, $"{path}/{kind}[{index}]"), depth + 1, listDepth));
        }

        for (var i = children.Count - 1; i >= 0; i--)
        {
            stack.Push(children[i]);
        }
    }

    private static StructuredTable ReadTable(Table table)
    {
        var grid = new TableGridBuilder();
        var headerRows = 0;
        foreach (var row in table.OfType<TableRow>())
        {
            grid.StartRow();
            headerRows += row.IsHeader && headerRows == grid.Rows - 1 ? 1 : 0;
            foreach (var cell in row.OfType<Markdig.Extensions.Tables.TableCell>())
            {
                var text = string.Join('\n', cell.OfType<ParagraphBlock>().Select(p => InlineText(p.Inline)));
                grid.Add(text, Math.Max(1, cell.ColumnSpan), Math.Max(1, cell.RowSpan));
            }
        }

        return grid.Build(headerRows);
    }

    private static void AddImages(ContainerInline? inline, string path, List<StructuredElement> elements, ElementBudget budget)
    {
        var index = 0;
        foreach (var image in Inlines(inline).OfType<LinkInline>().Where(l => l.IsImage))
        {
            var alt = InlineText(image);
            var url = image.Url ?? "";
            var embedded = DataUri.IsImage(url) && url.Length <= HtmlReader.MaxDataUriChars;
            var at = string.Create(CultureInfo.InvariantCulture, $"{path}/image[{++index}]");
            elements.Add(budget.Take(new StructuredElement(BlockRoles.Picture, alt, at, Picture: new StructuredPicture(embedded ? url : null, alt.Length > 0 ? alt : null, embedded || url.Length == 0 ? null : url[..Math.Min(url.Length, 2048)]))));
            if (image.Title is { Length: > 0 } title)
            {
                elements.Add(budget.Take(new StructuredElement(BlockRoles.Caption, title, at + "/title")));
            }
        }
    }

    /// <summary>The inlines in order, depth first, with an explicit stack.</summary>
    private static IEnumerable<Inline> Inlines(ContainerInline? root)
    {
        if (root is null)
        {
            yield break;
        }

        var stack = new Stack<Inline>();
        for (var child = root.LastChild; child is not null; child = child.PreviousSibling)
        {
            stack.Push(child);
        }

        while (stack.Count > 0)
        {
            var inline = stack.Pop();
            yield return inline;
            if (inline is ContainerInline container && !(inline is LinkInline { IsImage: true }))
            {
                for (var child = container.LastChild; child is not null; child = child.PreviousSibling)
                {
                    stack.Push(child);
                }
            }
        }
    }

    /// <summary>The text a reader sees: literals, code spans, link texts (images' alt text only inside an image); soft breaks as spaces.</summary>
    private static string InlineText(ContainerInline? inline)
    {
        var text = new StringBuilder();
        foreach (var node in Inlines(inline))
        {
            switch (node)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case HtmlEntityInline entity:
                    text.Append(entity.Transcoded.AsSpan());
                    break;
                case AutolinkInline autolink:
                    text.Append(autolink.Url);
                    break;
                case LineBreakInline lineBreak:
                    text.Append(lineBreak.IsHard ? '\n' : ' ');
                    break;
            }
        }

        return text.ToString().Trim();
    }
}
