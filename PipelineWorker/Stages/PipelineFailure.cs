namespace Suite.PipelineWorker.Stages;

/// <summary>
/// A permanent failure of a document: retrying cannot help, so the worker reports it to IngestService
/// (which marks the document failed with this code) and acknowledges the job.
/// </summary>
internal sealed class PipelineFailure : Exception
{
    public PipelineFailure(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    public PipelineFailure()
        : this(FailureCodes.StageFailed, "The pipeline failed.")
    {
    }

    public PipelineFailure(string message)
        : this(FailureCodes.StageFailed, message)
    {
    }

    public PipelineFailure(string message, Exception innerException)
        : this(FailureCodes.StageFailed, message, innerException)
    {
    }

    /// <summary>Stable machine-readable code, one of <see cref="FailureCodes"/>.</summary>
    public string Code { get; }

    /// <summary>The stage the failure happened in, when it happened in one.</summary>
    public string? Stage { get; set; }
}

/// <summary>The permanent failure codes a document can end with (stable: clients and tests match on them).</summary>
internal static class FailureCodes
{
    public const string EmptyFile = "empty_file";
    public const string NotPdf = "not_pdf";

    /// <summary>The content is none of the formats read (<see cref="Suite.Contracts.DocumentFormats"/>), whatever its name says.</summary>
    public const string UnsupportedFormat = "unsupported_format";
    public const string Encrypted = "encrypted";
    public const string CorruptStructure = "corrupt_structure";
    public const string NoPages = "no_pages";
    public const string TooManyPages = "too_many_pages";

    /// <summary>The request's pageRange names no page of the document.</summary>
    public const string PageRangeEmpty = "page_range_empty";
    public const string NoReadablePages = "no_readable_pages";
    public const string NoContent = "no_content";
    public const string Truncated = "truncated";
    public const string TooLarge = "too_large";
    public const string ContentMissing = "content_missing";
    public const string StageTimeout = "stage_timeout";
    public const string DocumentBudgetExceeded = "document_budget_exceeded";
    public const string StageFailed = "stage_failed";

    /// <summary>An image frame larger than Worker:Readers:MaxImagePixels / MaxImageSide, refused before decoding.</summary>
    public const string ImageTooLarge = "image_too_large";

    /// <summary>A DOCX or PPTX whose zip entries expand beyond the limits or by an absurd ratio.</summary>
    public const string ZipBomb = "zip_bomb";

    /// <summary>A DOCX or PPTX that pulls content from outside the file (an external image, object or sub-document).</summary>
    public const string ExternalReference = "external_reference";

    /// <summary>An XML part with a document type declaration (entity expansion, the "billion laughs").</summary>
    public const string XmlEntityExpansion = "xml_entity_expansion";

    /// <summary>HTML or Markdown nested deeper than Worker:Readers:MaxNestingDepth.</summary>
    public const string NestingTooDeep = "nesting_too_deep";

    /// <summary>More elements than Worker:Readers:MaxElements.</summary>
    public const string TooManyElements = "too_many_elements";
}
