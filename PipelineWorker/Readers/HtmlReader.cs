using System.Globalization;
using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// HTML with AngleSharp's parser alone (no browsing context with loaders, scripting off): nothing is fetched, no
/// script runs. One page. Headings h1–h6 (h1 the <c>title</c>, hN a <c>section_header</c> of level N-1), paragraphs,
/// lists with their nesting (ul/ol in li), tables with colspan/rowspan and their header rows (thead, or leading rows of
/// th only), figures with their figcaption, images with their alt text (a <c>data:</c> image up to 1 MiB is kept as the
/// picture's bytes; any other source is only a reference), pre as <c>code</c>. Scripts, styles, templates, embedded
/// frames and objects are left out. Nesting is checked on the raw text first (<see cref="MarkupNesting"/>) and the tree
/// is walked with an explicit stack, never recursively. Provenance: the element path (<c>/html/body/ul[1]/li[2]</c>).
/// </summary>
internal sealed class HtmlReader(IOptions<ReaderOptions> options) : PagedDocumentReader
{
    internal const int MaxDataUriChars = 1024 * 1024;
    private const double Width = 612;
    private const double Height = 792;

    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "template", "noscript", "head", "iframe", "object", "embed", "svg", "math", "canvas", "audio", "video", "button", "select", "input", "textarea",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "address", "article", "aside", "blockquote", "body", "center", "details", "dialog", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul", "html",
    };

    public override IReadOnlyList<string> Formats { get; } = [DocumentFormats.Html];

    public override string Extractor => PageExtractors.AngleSharp;

    public override int Probe(string path, CancellationToken cancellationToken)
    {
        MarkupNesting.CheckHtml(File.ReadAllText(path), options.Value.MaxNestingDepth);
        return 1;
    }

    public override IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken)
    {
        var source = File.ReadAllText(path);
        var limits = options.Value;
        MarkupNesting.CheckHtml(source, limits.MaxNestingDepth);
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(source);
        var walk = new Walk(limits, cancellationToken);
        walk.Run(document.DocumentElement);
        yield return new ExtractedPage(1, Width, Height, [], Extractor: Extractor, Elements: walk.Elements);
    }

    public override string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken) => DataUri.Copy(part, destination);

    private sealed class Walk(ReaderOptions limits, CancellationToken cancellationToken)
    {
        private readonly ElementBudget _budget = new(limits.MaxElements, "HTML");

        public List<StructuredElement> Elements { get; } = [];

        public void Run(IElement root)
        {
            var stack = new Stack<(INode Node, string Path, int Depth, int ListDepth, bool Ordered)>();
            stack.Push((root, "/" + root.LocalName, 1, -1, false));
            while (stack.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (node, path, depth, listDepth, ordered) = stack.Pop();
                if (depth > limits.MaxNestingDepth)
                {
                    throw MarkupNesting.TooDeep("HTML", $"elements are nested more than {limits.MaxNestingDepth} deep");
                }

                if (node is IText text)
                {
                    if (Normalize(text.Data) is { Length: > 0 } loose)
                    {
                        Add(new StructuredElement(BlockRoles.Paragraph, loose, path));
                    }

                    continue;
                }

                if (node is not IElement element || Skipped.Contains(element.LocalName))
                {
                    continue;
                }

                var name = element.LocalName.ToLowerInvariant();
                var childListDepth = listDepth;
                var childOrdered = ordered;
                switch (name)
                {
                    case "h1" or "h2" or "h3" or "h4" or "h5" or "h6":
                        var level = name[1] - '1';
                        Add(new StructuredElement(level == 0 ? BlockRoles.Title : BlockRoles.SectionHeader, InlineText(element), path, Level: level));
                        AddImages(element, path);
                        continue;
                    case "p" or "dt" or "dd" or "summary" or "address":
                        AddImages(element, path);
                        Add(new StructuredElement(BlockRoles.Paragraph, InlineText(element), path));
                        continue;
                    case "pre":
                        Add(new StructuredElement(BlockRoles.Code, element.TextContent.TrimEnd('\n', '\r'), path));
                        continue;
                    case "table":
                        Add(new StructuredElement(BlockRoles.Table, "", path, Table: ReadTable((IHtmlTableElement)element)));
                        continue;
                    case "img":
                        AddImage((IHtmlImageElement)element, path);
                        continue;
                    case "figcaption":
                        Add(new StructuredElement(BlockRoles.Caption, InlineText(element), path));
                        continue;
                    case "ul" or "ol":
                        childListDepth = listDepth + 1;
                        childOrdered = name == "ol";
                        break;
                    case "li":
                        Add(new StructuredElement(BlockRoles.ListItem, InlineText(element), path, ListDepth: Math.Max(0, listDepth), Ordered: ordered));
                        AddImages(element, path);
                        // Its nested lists and blocks follow; its own text is taken.
                        PushChildren(stack, element, path, depth, listDepth, ordered, blocksOnly: true);
                        continue;
                }

                if (!element.Children.Any(c => Blocks.Contains(c.LocalName) || c.LocalName is "img" or "table") && name is not ("ul" or "ol" or "html" or "body"))
                {
                    // A container of text and inline markup only: one paragraph.
                    Add(new StructuredElement(BlockRoles.Paragraph, InlineText(element), path));
                    continue;
                }

                PushChildren(stack, element, path, depth, childListDepth, childOrdered, blocksOnly: false);
            }
        }

        private static void PushChildren(Stack<(INode, string, int, int, bool)> stack, IElement element, string path, int depth, int listDepth, bool ordered, bool blocksOnly)
        {
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            var children = new List<(INode, string, int, int, bool)>();
            foreach (var child in element.ChildNodes)
            {
                if (child is IElement e)
                {
                    var index = counters[e.LocalName] = counters.GetValueOrDefault(e.LocalName) + 1;
                    if (!blocksOnly || e.LocalName is "ul" or "ol" or "table" or "pre" or "figure")
                    {
                        children.Add((e, string.Create(CultureInfo.InvariantCulture, $"{path}/{e.LocalName}[{index}]"), depth + 1, listDepth, ordered));
                    }
                }
                else if (child is IText && !blocksOnly)
                {
                    children.Add((child, path + "/text()", depth + 1, listDepth, ordered));
                }
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                stack.Push(children[i]);
            }
        }

        private void Add(StructuredElement element)
        {
            if (element.Text.Length > 0 || element.Table is not null || element.Picture is not null)
            {
                Elements.Add(_budget.Take(element));
            }
        }

        private void AddImages(IElement element, string path)
        {
            var index = 0;
            foreach (var image in element.QuerySelectorAll("img").OfType<IHtmlImageElement>())
            {
                AddImage(image, string.Create(CultureInfo.InvariantCulture, $"{path}//img[{++index}]"));
            }
        }

        private void AddImage(IHtmlImageElement image, string path)
        {
            var source = image.GetAttribute("src") ?? "";
            var alt = Normalize(image.AlternativeText ?? "");
            var embedded = DataUri.IsImage(source) && source.Length <= MaxDataUriChars;
            Add(new StructuredElement(BlockRoles.Picture, alt, path, Picture: new StructuredPicture(embedded ? source : null, alt.Length > 0 ? alt : null, embedded ? null : Truncate(source))));
        }

        private static string? Truncate(string source) => source.Length == 0 ? null : source.Length > 2048 ? source[..2048] : source;

        private StructuredTable ReadTable(IHtmlTableElement table)
        {
            var grid = new TableGridBuilder();
            var headerRows = 0;
            var inHeader = true;
            foreach (var row in table.Rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                grid.StartRow();
                var cells = row.Cells.ToList();
                var header = row.ParentElement is IHtmlTableSectionElement { LocalName: "thead" } || (cells.Count > 0 && cells.All(c => c.LocalName == "th"));
                inHeader &= header;
                headerRows += inHeader ? 1 : 0;
                foreach (var cell in cells)
                {
                    grid.Add(InlineText(cell), Math.Max(1, (int)cell.ColumnSpan), Math.Max(1, (int)cell.RowSpan));
                }

                if (grid.Count > limits.MaxElements)
                {
                    throw new PipelineFailure(FailureCodes.TooManyElements, $"An HTML table has more than {limits.MaxElements} cells (Worker:Readers:MaxElements).");
                }
            }

            return grid.Build(headerRows);
        }

        /// <summary>The text as a reader sees it: whitespace collapsed, &lt;br&gt; a line break, block children on their own lines; nested lists, tables and hidden content left out.</summary>
        private static string InlineText(IElement element)
        {
            var text = new StringBuilder();
            var stack = new Stack<INode>();
            for (var i = element.ChildNodes.Length - 1; i >= 0; i--)
            {
                stack.Push(element.ChildNodes[i]);
            }

            while (stack.Count > 0)
            {
                var node = stack.Pop();
                if (node is IText t)
                {
                    text.Append(t.Data);
                }
                else if (node is IElement e && !Skipped.Contains(e.LocalName) && e.LocalName is not ("ul" or "ol" or "table" or "figure" or "pre"))
                {
                    if (e.LocalName == "br" || Blocks.Contains(e.LocalName))
                    {
                        text.Append('\n');
                    }

                    for (var i = e.ChildNodes.Length - 1; i >= 0; i--)
                    {
                        stack.Push(e.ChildNodes[i]);
                    }
                }
            }

            return string.Join('\n', text.ToString().Split('\n').Select(Normalize).Where(l => l.Length > 0));
        }

        private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
