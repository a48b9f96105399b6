using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Readers;
using UglyToad.PdfPig;

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
/// validate: the format by its content (<see cref="DocumentFormats.Detect"/>, never the name); a non-PDF format is
/// checked and counted by its reader (<see cref="DocumentReaders"/>: pixel, zip, nesting and element limits, each
/// refusal with its own code). For a PDF: magic bytes, structure (PdfPig opens it and counts the pages), encryption and page limits.
/// Every refusal is a permanent failure with a specific code. A file whose structure PdfPig cannot read (corrupt,
/// truncated, no pages found) is not refused while poppler's pdfinfo reads it: its page count is poppler's then, and
/// extract reads its pages with poppler (<see cref="TextFallback"/>).
/// </summary>
internal sealed class ValidateStage(IOptions<ValidateStageOptions> options, TextFallback fallback, DocumentReaders readers) : IPipelineStage
{
    private const int MagicSearchWindow = 1024;
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("%PDF-");

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
        if (readers.For(format) is { } reader)
        {
            var pages = reader.Probe(context.ContentPath, cancellationToken);
            var probed = new ValidateCheckpoint(Checkpoints.FormatVersion, pages, size, "", false, reader.Extractor, format);
            await Checkpoints.WriteAtomicallyAsync(
                context.CheckpointPath(Name),
                stream => JsonSerializer.SerializeAsync(stream, probed, Checkpoints.JsonOptions, cancellationToken));
            return StageResult.Completed;
        }

        await CheckMagicAsync(context.ContentPath, cancellationToken);
        var truncated = !await HasEndMarkerAsync(context.ContentPath, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        ValidateCheckpoint checkpoint;
        try
        {
            checkpoint = ReadWithPdfPig(context.ContentPath, size, truncated);
        }
        catch (PipelineFailure refusal) when (refusal.Code is FailureCodes.CorruptStructure or FailureCodes.Truncated or FailureCodes.NoPages)
        {
            var (report, why) = await fallback.DescribeAsync(context.ContentPath, Name, cancellationToken);
            if (report is null)
            {
                throw new PipelineFailure(refusal.Code, $"{refusal.Message} (poppler: {why})", refusal.InnerException);
            }

            checkpoint = new ValidateCheckpoint(Checkpoints.FormatVersion, report.PageCount, size, report.PdfVersion ?? "", report.Encrypted, PageExtractors.Poppler);
        }

        var maxPages = options.Value.MaxPages;
        if (checkpoint.PageCount > maxPages)
        {
            throw new PipelineFailure(
                FailureCodes.TooManyPages,
                $"The PDF has {checkpoint.PageCount} pages; at most {maxPages} are accepted. Split it into smaller documents.");
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

    /// <summary>What PdfPig learns about the file, or its refusal (encrypted, truncated, corrupt, no pages).</summary>
    private static ValidateCheckpoint ReadWithPdfPig(string path, long size, bool truncated)
    {
        PdfDocument document;
        try
        {
            document = PdfOpening.Open(path);
        }
        catch (PipelineFailure failure) when (truncated && failure.Code == FailureCodes.CorruptStructure)
        {
            throw Truncated(failure.InnerException);
        }

        using var opened = document;
        int pages;
        try
        {
            pages = document.NumberOfPages;
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            throw truncated ? Truncated(ex) : new PipelineFailure(
                FailureCodes.CorruptStructure,
                $"The PDF's page tree is damaged ({PdfOpening.Describe(ex)}). Re-export or repair the file and upload it again.",
                ex);
        }

        // PdfPig reports zero pages for some damaged files without throwing: never let such a file through.
        if (pages <= 0)
        {
            throw truncated ? Truncated(null) : new PipelineFailure(FailureCodes.NoPages, "The PDF has no pages (or its page tree cannot be found). Repair or re-export the file and upload it again.");
        }

        return new ValidateCheckpoint(
            Checkpoints.FormatVersion,
            pages,
            size,
            document.Version.ToString("0.0", CultureInfo.InvariantCulture),
            document.IsEncrypted);
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

    /// <summary>
    /// Whether the file looks complete: it ends (within its last 2 KiB) with the %%EOF marker every complete PDF has.
    /// A file without it counts as cut short only if it has PDF objects at all; garbage after a header is corrupt.
    /// </summary>
    private static async Task<bool> HasEndMarkerAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        var tail = new byte[(int)Math.Min(2048, stream.Length)];
        stream.Seek(-tail.Length, SeekOrigin.End);
        var read = await stream.ReadAtLeastAsync(tail, tail.Length, throwOnEndOfStream: false, cancellationToken);
        if (tail.AsSpan(0, read).IndexOf("%%EOF"u8) >= 0)
        {
            return true;
        }

        var head = new byte[(int)Math.Min(64 * 1024, stream.Length)];
        stream.Seek(0, SeekOrigin.Begin);
        read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        return head.AsSpan(0, read).IndexOf(" obj"u8) < 0;
    }

    private static PipelineFailure Truncated(Exception? inner) => new(
        FailureCodes.Truncated,
        "The PDF is truncated: it does not end with %%EOF and its structure cannot be read. The upload or the file was cut short; upload the complete file again.",
        inner);

    private static async Task CheckMagicAsync(string path, CancellationToken cancellationToken)
    {
        var head = new byte[MagicSearchWindow];
        int read;
        await using (var stream = File.OpenRead(path))
        {
            read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        }

        // Leading junk before the header is tolerated (readers accept it), but only within the first KiB.
        if (head.AsSpan(0, read).IndexOf(Magic) < 0)
        {
            throw new PipelineFailure(
                FailureCodes.NotPdf,
                "The file is not a PDF: no %PDF- header in its first 1024 bytes. Upload a PDF document.");
        }
    }
}
