using System.Text.Json;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Readers;

namespace Suite.PipelineWorker.Stages;

/// <summary>Limits of the validate stage (section <c>Worker:Validate</c>).</summary>
internal sealed class ValidateStageOptions
{
    public const string Section = "Worker:Validate";

    /// <summary>Documents with more pages are refused with <c>too_many_pages</c>.</summary>
    public int MaxPages { get; set; } = 2000;

    /// <summary>Larger files are refused with <c>too_large</c> (IngestService also limits uploads).</summary>
    public long MaxSizeBytes { get; set; } = 512L * 1024 * 1024;
}

/// <summary>
/// validate: the format by its content (<see cref="DocumentFormats.Detect"/>, never the name), then its reader
/// (<see cref="DocumentReaders"/>) checks the file against its format's limits and counts its pages (PDF: magic bytes,
/// structure with poppler behind PdfPig, encryption; images: pixels; DOCX/PPTX: the zip and its XML; HTML/Markdown:
/// nesting and elements). Then the limits every format shares: size, page count, the request's pageRange. Every
/// refusal is a permanent failure with a specific code.
/// </summary>
internal sealed class ValidateStage(IOptions<ValidateStageOptions> options, DocumentReaders readers) : IPipelineStage
{
    public string Name => PipelineStageNames.Validate;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var size = new FileInfo(context.ContentPath).Length;
        if (size == 0)
        {
            throw new PipelineFailure(FailureCodes.EmptyFile, "The file is empty (0 bytes). Upload the document again.");
        }

        var maxBytes = options.Value.MaxSizeBytes;
        if (size > maxBytes)
        {
            throw new PipelineFailure(
                FailureCodes.TooLarge,
                $"The file has {size} bytes; at most {maxBytes} are accepted (Worker:Validate:MaxSizeBytes). Split or compress the document.");
        }

        var format = DocumentFormats.Detect(context.ContentPath)
            ?? throw new PipelineFailure(
                FailureCodes.UnsupportedFormat,
                "The file is none of the formats read (PDF, PNG, JPEG, TIFF, WebP, DOCX, PPTX, HTML, Markdown), judged by its content, not its name. Upload a document in one of them.");
        var checkpoint = await readers.For(format).ValidateAsync(context.ContentPath, size, format, cancellationToken);

        var maxPages = options.Value.MaxPages;
        if (checkpoint.PageCount > maxPages)
        {
            throw new PipelineFailure(
                FailureCodes.TooManyPages,
                $"The document has {checkpoint.PageCount} pages; at most {maxPages} are accepted. Split it into smaller documents.");
        }

        // The request's pageRange is checked here, once the page count is known: a range beyond the last page fails the
        // document (nothing to process), a range partly beyond it is cut to the document's pages.
        if (context.Options.PageRange is { } rangeText && PageRange.TryParse(rangeText, out var range, out _)
            && range.Select(checkpoint.PageCount).Count == 0)
        {
            throw new PipelineFailure(
                FailureCodes.PageRangeEmpty,
                $"The requested pageRange {rangeText} names no page of this document, which has {checkpoint.PageCount} pages. " +
                "Upload it again with a range within its pages, or without pageRange.");
        }

        await Checkpoints.WriteAtomicallyAsync(
            context.CheckpointPath(Name),
            stream => JsonSerializer.SerializeAsync(stream, checkpoint, Checkpoints.JsonOptions, cancellationToken));
        return StageResult.Completed;
    }

    /// <summary>
    /// The document's format as validate recorded it; detected again when there is no validate checkpoint (a test or
    /// tool running a later stage alone).
    /// </summary>
    public static async Task<string> FormatAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            if (await Checkpoints.ReadAsync<ValidateCheckpoint>(context.CheckpointPath(PipelineStageNames.Validate), cancellationToken) is { Format: { } format })
            {
                return format;
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or JsonException)
        {
            // Detected below.
        }

        return DocumentFormats.Detect(context.ContentPath) ?? DocumentFormats.Pdf;
    }

    public async Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var checkpoint = await Checkpoints.ReadAsync<ValidateCheckpoint>(context.CheckpointPath(Name), cancellationToken);
            return checkpoint is { Version: Checkpoints.FormatVersion, PageCount: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
