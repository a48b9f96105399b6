using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using TableCell = DocumentFormat.OpenXml.Wordprocessing.TableCell;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using A = DocumentFormat.OpenXml.Drawing;
using Wp = DocumentFormat.OpenXml.Drawing.Wordprocessing;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// DOCX with DocumentFormat.OpenXml, from the file's structure (never a rendering): headings and their levels from the
/// paragraph style (name "Title", "heading N", or the style's outline level), list items with their nesting from the
/// numbering (numPr level; numbered unless the level's format is a bullet), captions and code from their styles,
/// tables with merged cells (gridSpan, vMerge), embedded pictures with their alternative text. Pages: the document is
/// one page, cut at explicit page breaks (a page break, a section break, "page break before"); page size from the
/// section's pgSz. Provenance is the body element's path (<c>/body/p[12]</c>, <c>/body/tbl[2]</c>).
/// </summary>
internal sealed class DocxReader(IOptions<ReaderOptions> options, IOptions<ValidateStageOptions> validate) : PagedDocumentReader
{
    private const double DefaultWidth = 612;
    private const double DefaultHeight = 792;

    public override IReadOnlyList<string> Formats { get; } = [DocumentFormats.Docx];

    public override string Extractor => PageExtractors.OpenXml;

    public override int Probe(string path, CancellationToken cancellationToken)
    {
        var pages = ReadPages(path, cancellationToken).Count();
        if (pages > validate.Value.MaxPages)
        {
            throw new PipelineFailure(FailureCodes.TooManyPages, $"The DOCX has {pages} pages (explicit page breaks); at most {validate.Value.MaxPages} are accepted. Split it into smaller documents.");
        }

        return pages;
    }

    public override IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken)
    {
        using var safe = SafePackage.Create(path, options.Value, cancellationToken);
        return OpenXmlFiles.Guarded("DOCX", () =>
        {
            using var document = WordprocessingDocument.Open(safe.Path, false, OpenXmlFiles.Settings(options.Value));
            OpenXmlFiles.RefuseExternalContent(document, "DOCX");
            return new Walk(document, options.Value, cancellationToken).Pages();
        });
    }

    public override string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken)
    {
        using var safe = SafePackage.Create(path, options.Value, cancellationToken);
        return OpenXmlFiles.Guarded("DOCX", () =>
        {
            using var document = WordprocessingDocument.Open(safe.Path, false, OpenXmlFiles.Settings(options.Value));
            return OpenXmlFiles.CopyPart(document, part, destination, options.Value.MaxZipEntryBytes);
        });
    }

    /// <summary>One pass over the body.</summary>
    private sealed class Walk(WordprocessingDocument document, ReaderOptions limits, CancellationToken cancellationToken)
    {
        private readonly MainDocumentPart _main = document.MainDocumentPart ?? throw new PipelineFailure(FailureCodes.CorruptStructure, "The DOCX has no main document part. Save it again from Word and upload it again.");
        private readonly Dictionary<string, Style> _styles = (document.MainDocumentPart?.StyleDefinitionsPart?.Styles?.Elements<Style>() ?? [])
            .Where(s => s.StyleId?.Value is not null).GroupBy(s => s.StyleId!.Value!).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        private readonly ElementBudget _budget = new(limits.MaxElements, "DOCX");
        private readonly List<ExtractedPage> _pages = [];
        private List<StructuredElement> _elements = [];

        public List<ExtractedPage> Pages()
        {
            var body = _main.Document?.Body ?? throw new PipelineFailure(FailureCodes.CorruptStructure, "The DOCX has no body. Save it again from Word and upload it again.");
            var (width, height) = PageSize(body.Elements<SectionProperties>().LastOrDefault());
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var child in Flatten(body))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = child.LocalName;
                var index = counters[name] = counters.GetValueOrDefault(name) + 1;
                var path = string.Create(CultureInfo.InvariantCulture, $"/body/{name}[{index}]");
                switch (child)
                {
                    case Paragraph paragraph:
                        if (paragraph.ParagraphProperties?.PageBreakBefore is { } before && (before.Val?.Value ?? true))
                        {
                            EndPage(width, height);
                        }

                        AddParagraph(paragraph, path);
                        if (paragraph.Descendants<Break>().Any(b => b.Type?.InnerText == "page") || paragraph.ParagraphProperties?.SectionProperties is not null)
                        {
                            EndPage(width, height);
                        }

                        break;
                    case Table table:
                        Add(new StructuredElement(BlockRoles.Table, "", path, Table: ReadTable(table)));
                        break;
                }
            }

            if (_elements.Count > 0 || _pages.Count == 0)
            {
                EndPage(width, height);
            }

            return _pages;
        }

        /// <summary>Body paragraphs and tables, with those inside content controls (sdt) in their place.</summary>
        private static IEnumerable<OpenXmlElement> Flatten(OpenXmlElement container)
        {
            foreach (var child in container.ChildElements)
            {
                if (child is SdtBlock sdt && sdt.SdtContentBlock is { } content)
                {
                    foreach (var inner in content.ChildElements.Where(e => e is Paragraph or Table))
                    {
                        yield return inner;
                    }
                }
                else if (child is Paragraph or Table)
                {
                    yield return child;
                }
            }
        }

        private void EndPage(double width, double height)
        {
            _pages.Add(new ExtractedPage(_pages.Count + 1, width, height, [], Extractor: PageExtractors.OpenXml, Elements: _elements));
            _elements = [];
        }

        private void Add(StructuredElement element) => _elements.Add(_budget.Take(element));

        private void AddParagraph(Paragraph paragraph, string path)
        {
            var pictures = 0;
            foreach (var drawing in paragraph.Descendants<Drawing>())
            {
                pictures++;
                var blip = drawing.Descendants<A.Blip>().FirstOrDefault()?.Embed?.Value;
                var properties = drawing.Descendants<Wp.DocProperties>().FirstOrDefault();
                var alt = properties?.Description?.Value is { Length: > 0 } description ? description : properties?.Title?.Value;
                string? part = null;
                if (blip is not null && _main.TryGetPartById(blip, out var image) && image is ImagePart)
                {
                    part = image.Uri.OriginalString;
                }

                Add(new StructuredElement(BlockRoles.Picture, alt ?? "", string.Create(CultureInfo.InvariantCulture, $"{path}/drawing[{pictures}]"), Picture: new StructuredPicture(part, alt)));
            }

            var text = Text(paragraph);
            if (text.Trim().Length == 0)
            {
                return;
            }

            var style = StyleChain(paragraph.ParagraphProperties?.ParagraphStyleId?.Val?.Value).ToList();
            var names = style.Select(s => s.StyleName?.Val?.Value?.ToLowerInvariant() ?? "").ToList();
            var outline = paragraph.ParagraphProperties?.OutlineLevel?.Val?.Value
                ?? style.Select(s => s.StyleParagraphProperties?.OutlineLevel?.Val?.Value).FirstOrDefault(l => l is not null);
            var heading = names.Select(HeadingLevel).FirstOrDefault(l => l is not null);
            if (names.Any(n => n is "title"))
            {
                Add(new StructuredElement(BlockRoles.Title, text, path, Level: 0));
            }
            else if ((heading ?? (outline is { } o && o < 9 ? o + 1 : null)) is { } level)
            {
                Add(new StructuredElement(level <= 1 ? BlockRoles.Title : BlockRoles.SectionHeader, text, path, Level: level - 1));
            }
            else if (names.Any(n => n.Contains("caption", StringComparison.Ordinal)))
            {
                Add(new StructuredElement(BlockRoles.Caption, text, path));
            }
            else if (names.Any(n => n is "source code" or "html preformatted" || n.StartsWith("code", StringComparison.Ordinal)))
            {
                Add(new StructuredElement(BlockRoles.Code, text, path));
            }
            else if (Numbering(paragraph, style) is { } list)
            {
                Add(new StructuredElement(BlockRoles.ListItem, text, path, ListDepth: list.Depth, Ordered: list.Ordered));
            }
            else
            {
                Add(new StructuredElement(BlockRoles.Paragraph, text, path));
            }
        }

        /// <summary>
        /// An on/off value as written (read as text: the SDK's enum parsing throws on spellings other writers use).
        /// Absent means on.
        /// </summary>
        private static bool IsOn(string? value) => value is null or "" || value is not ("0" or "false" or "off");

        /// <summary>"heading 3" → 3.</summary>
        private static int? HeadingLevel(string styleName) =>
            styleName.StartsWith("heading ", StringComparison.Ordinal) && int.TryParse(styleName.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out var level) && level is >= 1 and <= 9
                ? level
                : null;

        /// <summary>The paragraph's style and the styles it is based on (at most 10: a loop in the file cannot hang this).</summary>
        private IEnumerable<Style> StyleChain(string? styleId)
        {
            for (var i = 0; i < 10 && styleId is not null && _styles.TryGetValue(styleId, out var style); i++)
            {
                yield return style;
                styleId = style.BasedOn?.Val?.Value;
            }
        }

        private (int Depth, bool Ordered)? Numbering(Paragraph paragraph, List<Style> style)
        {
            var numbering = paragraph.ParagraphProperties?.NumberingProperties;
            var numId = numbering?.NumberingId?.Val?.Value ?? style.Select(s => s.StyleParagraphProperties?.NumberingProperties?.NumberingId?.Val?.Value).FirstOrDefault(v => v is not null);
            if (numId is null or 0)
            {
                return null;
            }

            var depth = numbering?.NumberingLevelReference?.Val?.Value
                ?? style.Select(s => s.StyleParagraphProperties?.NumberingProperties?.NumberingLevelReference?.Val?.Value).FirstOrDefault(v => v is not null) ?? 0;
            var definitions = _main.NumberingDefinitionsPart?.Numbering;
            var abstractId = definitions?.Elements<NumberingInstance>().FirstOrDefault(n => n.NumberID?.Value == numId)?.AbstractNumId?.Val?.Value;
            var format = definitions?.Elements<AbstractNum>().FirstOrDefault(a => a.AbstractNumberId?.Value == abstractId)?
                .Elements<Level>().FirstOrDefault(l => l.LevelIndex?.Value == depth)?.NumberingFormat?.Val?.InnerText;
            var ordered = format is not null and not ("bullet" or "none");
            return (Math.Clamp(depth, 0, 8), ordered);
        }

        /// <summary>The visible text: runs (hyperlinks' too), tabs and line breaks; deleted text and field codes are not text.</summary>
        private static string Text(OpenXmlElement element)
        {
            var text = new StringBuilder();
            foreach (var node in element.Descendants())
            {
                switch (node)
                {
                    case Text t:
                        text.Append(t.Text);
                        break;
                    case TabChar:
                        text.Append('\t');
                        break;
                    case Break b when b.Type is null || b.Type.InnerText == "textWrapping":
                        text.Append('\n');
                        break;
                }
            }

            return text.ToString();
        }

        private StructuredTable ReadTable(Table table)
        {
            var grid = new TableGridBuilder();
            var headerRows = 0;
            var inHeader = true;
            foreach (var row in table.Elements<TableRow>())
            {
                cancellationToken.ThrowIfCancellationRequested();
                grid.StartRow();
                var isHeader = row.TableRowProperties?.GetFirstChild<TableHeader>() is { } header && IsOn(header.Val?.InnerText);
                inHeader &= isHeader;
                headerRows += inHeader ? 1 : 0;
                foreach (var cell in row.Elements<TableCell>())
                {
                    var span = (int)(cell.TableCellProperties?.GridSpan?.Val?.Value ?? 1);
                    var merge = cell.TableCellProperties?.VerticalMerge;
                    if (merge is not null && merge.Val?.InnerText != "restart")
                    {
                        grid.ContinueAbove(span);
                    }
                    else
                    {
                        grid.Add(string.Join('\n', cell.Elements<Paragraph>().Select(Text).Where(t => t.Trim().Length > 0)), span);
                    }
                }

                if (grid.Count > limits.MaxElements)
                {
                    throw new PipelineFailure(FailureCodes.TooManyElements, $"A DOCX table has more than {limits.MaxElements} cells (Worker:Readers:MaxElements).");
                }
            }

            // Without marked header rows, a table whose style shows its first row as a header has one.
            if (headerRows == 0 && table.GetFirstChild<TableProperties>()?.TableLook is { } look && (IsOn(look.FirstRow?.InnerText) && look.FirstRow is not null || (look.Val?.InnerText is { Length: 4 } hex && int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var bits) && (bits & 0x20) != 0)))
            {
                headerRows = 1;
            }

            return grid.Build(headerRows);
        }

        private static (double Width, double Height) PageSize(SectionProperties? section)
        {
            var size = section?.GetFirstChild<PageSize>();
            return size?.Width?.Value is { } w && size.Height?.Value is { } h && w > 0 && h > 0
                ? (Checkpoints.Round(w / 20.0), Checkpoints.Round(h / 20.0))
                : (DefaultWidth, DefaultHeight);
        }
    }
}
