using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Presentation;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using A = DocumentFormat.OpenXml.Drawing;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// PPTX with DocumentFormat.OpenXml: one page per slide (in the deck's order, its size the slide size), its shapes in
/// the order of the shape tree: the title placeholder is the slide's heading (a centred title the deck's
/// <c>title</c>, a slide title a level-1 <c>section_header</c>), paragraphs of body placeholders list items with their
/// indent level (numbered when auto-numbered, plain paragraphs when bullets are switched off), other text boxes
/// paragraphs, tables with merged cells (gridSpan, rowSpan, hMerge, vMerge), pictures with their alternative text, and
/// the speaker notes last, as one <c>note</c> element. Provenance: the slide, and the path <c>/slide[2]/sp[3]</c>.
/// </summary>
internal sealed class PptxReader(IOptions<ReaderOptions> options, IOptions<ValidateStageOptions> validate) : PagedDocumentReader
{
    private const double EmuPerPoint = 12_700;

    public override IReadOnlyList<string> Formats { get; } = [DocumentFormats.Pptx];

    public override string Extractor => PageExtractors.OpenXml;

    public override int Probe(string path, CancellationToken cancellationToken)
    {
        using var safe = SafePackage.Create(path, options.Value, cancellationToken);
        var slides = OpenXmlFiles.Guarded("PPTX", () =>
        {
            using var document = PresentationDocument.Open(safe.Path, false, OpenXmlFiles.Settings(options.Value));
            OpenXmlFiles.RefuseExternalContent(document, "PPTX");
            return document.PresentationPart?.Presentation?.SlideIdList?.Elements<SlideId>().Count() ?? 0;
        });
        if (slides == 0)
        {
            throw new PipelineFailure(FailureCodes.NoPages, "The PPTX has no slides. Add slides or upload another file.");
        }

        if (slides > validate.Value.MaxPages)
        {
            throw new PipelineFailure(FailureCodes.TooManyPages, $"The PPTX has {slides} slides; at most {validate.Value.MaxPages} are accepted (Worker:Validate:MaxPages). Split the deck.");
        }

        return slides;
    }

    public override IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken)
    {
        using var safe = SafePackage.Create(path, options.Value, cancellationToken);
        return OpenXmlFiles.Guarded("PPTX", () =>
        {
            using var document = PresentationDocument.Open(safe.Path, false, OpenXmlFiles.Settings(options.Value));
            OpenXmlFiles.RefuseExternalContent(document, "PPTX");
            var presentation = document.PresentationPart ?? throw new PipelineFailure(FailureCodes.CorruptStructure, "The PPTX has no presentation part.");
            var size = presentation.Presentation?.SlideSize;
            var width = size?.Cx?.Value is { } cx && cx > 0 ? Checkpoints.Round(cx / EmuPerPoint) : 720;
            var height = size?.Cy?.Value is { } cy && cy > 0 ? Checkpoints.Round(cy / EmuPerPoint) : 540;
            var budget = new ElementBudget(options.Value.MaxElements, "PPTX");
            var pages = new List<ExtractedPage>();
            foreach (var slideId in presentation.Presentation?.SlideIdList?.Elements<SlideId>() ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var number = pages.Count + 1;
                var elements = new List<StructuredElement>();
                if (slideId.RelationshipId?.Value is { } rid && presentation.TryGetPartById(rid, out var part) && part is SlidePart slide)
                {
                    var prefix = string.Create(CultureInfo.InvariantCulture, $"/slide[{number}]");
                    if (slide.Slide?.CommonSlideData?.ShapeTree is { } tree)
                    {
                        ReadShapes(tree, slide, prefix, elements, budget, depth: 0);
                    }

                    if (Notes(slide) is { Length: > 0 } notes)
                    {
                        elements.Add(budget.Take(new StructuredElement(BlockRoles.Note, notes, prefix + "/notes")));
                    }
                }

                pages.Add(new ExtractedPage(number, width, height, [], Extractor: PageExtractors.OpenXml, Elements: elements));
            }

            return pages;
        });
    }

    public override string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken)
    {
        using var safe = SafePackage.Create(path, options.Value, cancellationToken);
        return OpenXmlFiles.Guarded("PPTX", () =>
        {
            using var document = PresentationDocument.Open(safe.Path, false, OpenXmlFiles.Settings(options.Value));
            return OpenXmlFiles.CopyPart(document, part, destination, options.Value.MaxZipEntryBytes);
        });
    }

    private static void ReadShapes(OpenXmlElement tree, SlidePart slide, string prefix, List<StructuredElement> elements, ElementBudget budget, int depth)
    {
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in tree.ChildElements)
        {
            var index = counters[child.LocalName] = counters.GetValueOrDefault(child.LocalName) + 1;
            var path = string.Create(CultureInfo.InvariantCulture, $"{prefix}/{child.LocalName}[{index}]");
            switch (child)
            {
                case Shape shape:
                    ReadShape(shape, path, elements, budget);
                    break;
                case Picture picture:
                    var embed = picture.BlipFill?.Blip?.Embed?.Value;
                    var alt = picture.NonVisualPictureProperties?.NonVisualDrawingProperties?.Description?.Value;
                    var uri = embed is not null && slide.TryGetPartById(embed, out var image) && image is ImagePart ? image.Uri.OriginalString : null;
                    elements.Add(budget.Take(new StructuredElement(BlockRoles.Picture, alt ?? "", path, Picture: new StructuredPicture(uri, alt))));
                    break;
                case GraphicFrame frame when frame.Descendants<A.Table>().FirstOrDefault() is { } table:
                    elements.Add(budget.Take(new StructuredElement(BlockRoles.Table, "", path, Table: ReadTable(table))));
                    break;
                case GroupShape group when depth < 16:
                    ReadShapes(group, slide, path, elements, budget, depth + 1);
                    break;
            }
        }
    }

    private static void ReadShape(Shape shape, string path, List<StructuredElement> elements, ElementBudget budget)
    {
        if (shape.TextBody is not { } body)
        {
            return;
        }

        var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape;
        var type = placeholder?.Type?.Value;
        if (type == PlaceholderValues.Title || type == PlaceholderValues.CenteredTitle)
        {
            var title = string.Join(' ', body.Elements<A.Paragraph>().Select(Text).Where(t => t.Trim().Length > 0));
            if (title.Trim().Length > 0)
            {
                elements.Add(budget.Take(type == PlaceholderValues.CenteredTitle
                    ? new StructuredElement(BlockRoles.Title, title, path, Level: 0)
                    : new StructuredElement(BlockRoles.SectionHeader, title, path, Level: 1)));
            }

            return;
        }

        // A body (or content) placeholder shows bullets unless a paragraph switches them off; a text box shows none unless asked.
        var bulleted = placeholder is not null && (type is null || type == PlaceholderValues.Body || type == PlaceholderValues.Object);
        var paragraphs = 0;
        foreach (var paragraph in body.Elements<A.Paragraph>())
        {
            paragraphs++;
            var text = Text(paragraph);
            if (text.Trim().Length == 0)
            {
                continue;
            }

            var properties = paragraph.ParagraphProperties;
            var numbered = properties?.GetFirstChild<A.AutoNumberedBullet>() is not null;
            var bullet = numbered || properties?.GetFirstChild<A.CharacterBullet>() is not null || (bulleted && properties?.GetFirstChild<A.NoBullet>() is null);
            var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}/p[{paragraphs}]");
            elements.Add(budget.Take(bullet
                ? new StructuredElement(BlockRoles.ListItem, text, itemPath, ListDepth: Math.Clamp(properties?.Level?.Value ?? 0, 0, 8), Ordered: numbered)
                : new StructuredElement(BlockRoles.Paragraph, text, itemPath)));
        }
    }

    private static StructuredTable ReadTable(A.Table table)
    {
        var grid = new TableGridBuilder();
        foreach (var row in table.Elements<A.TableRow>())
        {
            grid.StartRow();
            foreach (var cell in row.Elements<A.TableCell>())
            {
                if (cell.VerticalMerge?.Value == true)
                {
                    grid.ContinueAbove();
                }
                else if (cell.HorizontalMerge?.Value == true)
                {
                    grid.Skip();
                }
                else
                {
                    var text = string.Join('\n', cell.TextBody?.Elements<A.Paragraph>().Select(Text).Where(t => t.Trim().Length > 0) ?? []);
                    grid.Add(text, cell.GridSpan?.Value ?? 1, cell.RowSpan?.Value ?? 1);
                }
            }
        }

        var firstRow = table.TableProperties?.FirstRow?.Value ?? false;
        return grid.Build(firstRow ? 1 : 0);
    }

    /// <summary>The speaker notes: the text of the notes page's body placeholder (not the slide image or the page number).</summary>
    private static string? Notes(SlidePart slide)
    {
        var tree = slide.NotesSlidePart?.NotesSlide?.CommonSlideData?.ShapeTree;
        if (tree is null)
        {
            return null;
        }

        var texts = tree.Descendants<Shape>()
            .Where(s => s.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value == PlaceholderValues.Body)
            .SelectMany(s => s.TextBody?.Elements<A.Paragraph>().Select(Text) ?? [])
            .Where(t => t.Trim().Length > 0);
        return string.Join('\n', texts);
    }

    private static string Text(A.Paragraph paragraph)
    {
        var text = new StringBuilder();
        foreach (var node in paragraph.ChildElements)
        {
            switch (node)
            {
                case A.Run run:
                    text.Append(run.Text?.Text);
                    break;
                case A.Field field:
                    text.Append(field.Text?.Text);
                    break;
                case A.Break:
                    text.Append('\n');
                    break;
            }
        }

        return text.ToString();
    }
}
