using System.Text.Json;
using System.Text.Json.Serialization;

namespace Suite.Contracts;

/// <summary>
/// The structured result of one document (format=json). Coordinates are PDF points with a bottom-left origin,
/// as PdfPig reports them; pages are numbered from 1. Documented in docs/result-schema.md, JSON Schema in
/// docs/result.schema.json.
/// </summary>
public sealed record DocumentResult
{
    /// <summary>
    /// 4: the document's <see cref="Format"/> (PDF, images, DOCX, PPTX, HTML, Markdown), each block's
    /// <see cref="ResultBlock.Provenance"/> and list nesting, the roles <c>code</c> and <c>note</c>, pictures' alternative
    /// text, and the document's pipeline <see cref="Options"/>. 3: pages say which extractor read them (<see cref="ResultPage.Extractor"/>) and the document's form fields
    /// (<see cref="FormFields"/>) were added. 2: tables, pictures, page images, text sources and per-block references
    /// were added to version 1.
    /// </summary>
    public const int CurrentSchemaVersion = 4;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required string DocumentId { get; init; }
    public required string FileName { get; init; }

    /// <summary>What the document is, recognised by its content (<see cref="DocumentFormats"/>): pdf, png, jpeg, tiff, webp, docx, pptx, html, markdown.</summary>
    public string Format { get; init; } = DocumentFormats.Pdf;
    public required int PageCount { get; init; }

    /// <summary>The pipeline options the document was processed with, defaults filled in (the OCR languages used included).</summary>
    public DocumentOptions? Options { get; init; }
    public required IReadOnlyList<ResultPage> Pages { get; init; }

    /// <summary>Block ids in reading order, across pages.</summary>
    public required IReadOnlyList<string> ReadingOrder { get; init; }

    /// <summary>Tables with their cell grid; each is also a block of role <c>table</c> (see <see cref="ResultBlock.TableId"/>).</summary>
    public IReadOnlyList<ResultTable> Tables { get; init; } = [];

    /// <summary>Pictures with their boxes and descriptions; each is also a block of role <c>picture</c>.</summary>
    public IReadOnlyList<ResultPicture> Pictures { get; init; } = [];

    /// <summary>The AcroForm fields with their values, in form order by page; empty when the PDF has no form.</summary>
    public IReadOnlyList<ResultFormField> FormFields { get; init; } = [];

    /// <summary>Every stage's outcome: ok, degraded or skipped, with the reason when not ok.</summary>
    public required IReadOnlyList<StageOutcome> Stages { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

public sealed record ResultPage(int PageNumber, double Width, double Height, IReadOnlyList<ResultBlock> Blocks)
{
    /// <summary>Where the page's words came from: <c>text_layer</c>, <c>ocr</c>, or <c>none</c> (no text found).</summary>
    public string? TextSource { get; init; }

    /// <summary>Who read the page (<see cref="PageExtractors"/>); null when no reader could read it.</summary>
    public string? Extractor { get; init; }

    /// <summary>The rendered page image, when the render stage produced one.</summary>
    public PageImage? Image { get; init; }
}

/// <summary>A rendered page: served at <see cref="Url"/> (relative to the API root), PNG of the given pixel size.</summary>
public sealed record PageImage(string Url, int WidthPx, int HeightPx, double Dpi);

/// <summary>
/// A block on a page with its layout role (<see cref="BlockRoles"/>). A table or picture block points at its entry in
/// <see cref="DocumentResult.Tables"/> / <see cref="DocumentResult.Pictures"/>.
/// </summary>
public sealed record ResultBlock(string Id, int PageNumber, string Role, string Text, BoundingBox BoundingBox)
{
    public string? TableId { get; init; }
    public string? PictureId { get; init; }

    /// <summary>Heading depth for <c>title</c> (0) and <c>section_header</c> (1 or more); null for other roles.</summary>
    public int? Level { get; init; }

    /// <summary>Nesting of a <c>list_item</c> whose file states it (0 outermost); null when the list was recognised on a page image or text layer.</summary>
    public int? ListDepth { get; init; }

    /// <summary>Whether a <c>list_item</c> whose file states its list is in a numbered list; null otherwise.</summary>
    public bool? ListOrdered { get; init; }

    /// <summary>Where the block came from: the page (PDF, images), the slide (PPTX) and the element path in the file (DOCX, PPTX, HTML, Markdown).</summary>
    public BlockProvenance? Provenance { get; init; }
}

/// <summary>
/// Where a block came from. <see cref="Page"/>: the page of a PDF or the frame of an image (from 1); <see cref="Slide"/>:
/// the slide of a PPTX (from 1); <see cref="Path"/>: the element's path in the file (DOCX <c>/body/p[3]</c>, PPTX
/// <c>/slide[2]/shape[1]/p[1]</c>, HTML <c>/html/body/ul[1]/li[2]</c>, Markdown <c>/heading[1]</c> with its line).
/// </summary>
public sealed record BlockProvenance(int? Page = null, int? Slide = null, string? Path = null);

/// <summary>A box in PDF points, origin bottom-left.</summary>
public sealed record BoundingBox(double Left, double Bottom, double Right, double Top);

/// <summary>
/// A table: its grid size and cells (row and column from 0, top-left first). A cell spanning several rows or columns
/// is listed once, at its top-left position; the grid positions it covers have no cell of their own.
/// </summary>
public sealed record ResultTable(string Id, int PageNumber, BoundingBox BoundingBox, int RowCount, int ColumnCount, IReadOnlyList<TableCell> Cells)
{
    /// <summary>How it was found: <c>ruling</c> (drawn lines) or <c>alignment</c> (aligned words).</summary>
    public string? Detection { get; init; }

    /// <summary>
    /// How many rows at the top are column headers (0: none recognised). Null in results of workers that did not
    /// recognise headers yet; readers should then take none.
    /// </summary>
    public int? HeaderRows { get; init; }
}

/// <summary>One cell; <see cref="RowSpan"/> and <see cref="ColumnSpan"/> say how many grid rows and columns it covers.</summary>
public sealed record TableCell(int Row, int Column, string Text, BoundingBox? BoundingBox = null)
{
    public int RowSpan { get; init; } = 1;
    public int ColumnSpan { get; init; } = 1;
}

/// <summary>An embedded picture: its box, the stored file (served at <see cref="Url"/>) and an optional description.</summary>
public sealed record ResultPicture(string Id, int PageNumber, BoundingBox BoundingBox)
{
    public string? Url { get; init; }
    public string? ContentType { get; init; }
    public int? WidthPx { get; init; }
    public int? HeightPx { get; init; }
    public string? Description { get; init; }

    /// <summary>The alternative text the file gives the picture (DOCX, PPTX, HTML, Markdown); null when it has none.</summary>
    public string? AltText { get; init; }

    /// <summary>An image the file only references (an HTML or Markdown image at a URL): kept as written, never fetched.</summary>
    public string? Reference { get; init; }
}

/// <summary>
/// A form field (AcroForm): its full name (parents joined with "."), its value as text, and its kind
/// (<see cref="FormFieldTypes"/>); <see cref="PageNumber"/> is the page of its widget, when known.
/// </summary>
public sealed record ResultFormField(string Name, string Value, string Type)
{
    public int? PageNumber { get; init; }
}

/// <summary>The kinds of form fields: values of text and choice fields are their text; buttons give their state name ("Off" when not set).</summary>
public static class FormFieldTypes
{
    public const string Text = "text";
    public const string Checkbox = "checkbox";
    public const string Radio = "radio";
    public const string Choice = "choice";
    public const string Signature = "signature";
}

/// <summary>
/// Who read a page: <c>pdfpig</c> (the text layer, the usual case), <c>poppler</c> (the text layer read by poppler's
/// pdftotext because PdfPig could not read the document or page, or found no text where poppler does), <c>ocr</c>
/// (tesseract, on a page without a text layer).
/// </summary>
public static class PageExtractors
{
    public const string Pdfpig = "pdfpig";
    public const string Poppler = "poppler";
    public const string Ocr = "ocr";

    /// <summary>DOCX and PPTX, read with DocumentFormat.OpenXml.</summary>
    public const string OpenXml = "openxml";

    /// <summary>HTML, read with AngleSharp.</summary>
    public const string AngleSharp = "anglesharp";

    /// <summary>Markdown, read with Markdig.</summary>
    public const string Markdig = "markdig";

    /// <summary>Images (PNG, JPEG, TIFF, WebP), decoded with Magick.NET; their text then comes from OCR.</summary>
    public const string Magick = "magick";
}

/// <summary>The layout roles a block can have.</summary>
public static class BlockRoles
{
    public const string Title = "title";
    public const string SectionHeader = "section_header";
    public const string Paragraph = "paragraph";
    public const string ListItem = "list_item";
    public const string Caption = "caption";
    public const string PageHeader = "page_header";
    public const string PageFooter = "page_footer";
    public const string Table = "table";
    public const string Picture = "picture";

    /// <summary>A code block (HTML <c>pre</c>, Markdown fenced or indented code), text kept as written.</summary>
    public const string Code = "code";

    /// <summary>Speaker notes of a PPTX slide: the presenter's text, not the slide's.</summary>
    public const string Note = "note";

    public static readonly IReadOnlyList<string> All = [Title, SectionHeader, Paragraph, ListItem, Caption, PageHeader, PageFooter, Table, Picture, Code, Note];
}

public sealed record StageOutcome(string Name, string Outcome, string? Reason = null)
{
    public const string Ok = "ok";
    public const string Degraded = "degraded";
    public const string Skipped = "skipped";
}

/// <summary>Public URLs of a document's artifacts (served by IngestService, routed by the gateway under /api/documents).</summary>
public static class ArtifactRoutes
{
    public static string PageImage(string documentId, int pageNumber) => $"/api/documents/{documentId}/pages/{pageNumber}/image";

    public static string Picture(string documentId, string pictureId) => $"/api/documents/{documentId}/pictures/{pictureId}";
}
