using System.Globalization;
using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Readers;
using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig;

namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// Reads PDFs. validate: magic bytes, structure (PdfPig opens it and counts the pages), encryption; a file whose
/// structure PdfPig cannot read (corrupt, truncated, no pages found) is not refused while poppler's pdfinfo reads it:
/// its page count is poppler's then. extract: the words of every page with their boxes, font names and sizes, and the
/// document's form fields. PdfPig reads first; where it cannot open the document or a page, or finds no readable text
/// on a page, poppler's pdftotext reads that page (<see cref="PageTextReader"/>; words without font names, the stage is
/// then degraded with the reason). A page neither can read is recorded empty with its error and the document goes on
/// (degraded); only a document of which no page at all can be read fails. Pages without words are fine: image-only
/// pages get OCR later. The checkpoint carries poppler's words too, so a resume after extract never asks poppler again.
/// </summary>
internal sealed class PdfDocumentReader(TextFallback fallback) : IDocumentReader
{
    private const int MagicSearchWindow = 1024;

    public IReadOnlyList<string> Formats { get; } = [DocumentFormats.Pdf];

    public async Task<ValidateCheckpoint> ValidateAsync(string path, long sizeBytes, string format, CancellationToken cancellationToken)
    {
        await CheckMagicAsync(path, cancellationToken);
        var truncated = !await HasEndMarkerAsync(path, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        ValidateCheckpoint checkpoint;
        try
        {
            checkpoint = ReadWithPdfPig(path, sizeBytes, truncated);
        }
        catch (PipelineFailure refusal) when (refusal.Code is FailureCodes.CorruptStructure or FailureCodes.Truncated or FailureCodes.NoPages)
        {
            var (report, why) = await fallback.DescribeAsync(path, PipelineStageNames.Validate, cancellationToken);
            if (report is null)
            {
                throw new PipelineFailure(refusal.Code, $"{refusal.Message} (poppler: {why})", refusal.InnerException);
            }

            checkpoint = new ValidateCheckpoint(Checkpoints.FormatVersion, report.PageCount, sizeBytes, report.PdfVersion ?? "", report.Encrypted, PageExtractors.Poppler);
        }

        return checkpoint with { Format = format };
    }

    public async Task<StageResult> ExtractAsync(StageContext context, int pageCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        UglyToad.PdfPig.PdfDocument? document = null;
        string? openError = null;
        try
        {
            document = PdfOpening.Open(context.ContentPath);
        }
        catch (PipelineFailure failure) when (failure.Code == FailureCodes.CorruptStructure && fallback.Enabled)
        {
            // validate let the file through, so poppler reads it; every page comes from poppler.
            openError = failure.InnerException is { } inner ? PdfOpening.Describe(inner) : failure.Message;
        }

        using var opened = document;
        var selected = Enumerable.Range(1, pageCount).Where(context.IncludesPage).ToList();
        // Each field goes onto its widget's page in the checkpoint; one without a (valid) page onto the first page read.
        var formFields = (document is null ? [] : FormFieldReader.Read(document))
            .ToLookup(f => f.Page is { } p && p >= 1 && p <= pageCount ? p : selected.FirstOrDefault(1));
        var reader = new PageTextReader(document, openError, context.ContentPath, fallback, pageCount);
        var failed = new List<int>();
        var fallbackPages = new List<(int Page, string Reason)>();
        var passingMisses = 0;

        await Checkpoints.WriteAtomicallyAsync(context.CheckpointPath(PipelineStageNames.Extract), async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartArray();
            foreach (var number in selected)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (page, passing) = await reader.ReadAsync(number, cancellationToken);
                if (formFields[number].ToList() is { Count: > 0 } fields)
                {
                    page = page with { FormFields = fields };
                }

                if (page.Error is not null)
                {
                    failed.Add(number);
                    passingMisses += passing ? 1 : 0;
                }
                else if (page.Extractor == PageExtractors.Poppler)
                {
                    fallbackPages.Add((number, page.FallbackReason ?? ""));
                }

                JsonSerializer.Serialize(writer, page, Checkpoints.JsonOptions);
                await writer.FlushAsync(cancellationToken);
                context.ReportPages(selected.IndexOf(number) + 1, selected.Count);
            }

            writer.WriteEndArray();
            await writer.FlushAsync(cancellationToken);
        });

        var extracted = selected.Count;
        if (failed.Count == extracted)
        {
            if (passingMisses > 0)
            {
                // poppler was there to read them but timed out or was switched off by its breaker: try again later.
                throw new TransientStageException(PipelineStageNames.Extract, $"None of the {pageCount} pages could be read now: PdfPig cannot, and poppler timed out or its breaker is open; the job will be retried.");
            }

            throw new PipelineFailure(
                FailureCodes.NoReadablePages,
                $"None of the {pageCount} pages could be read. The file is damaged; repair or re-export it and upload it again.");
        }

        var reasons = ExtractStage.DescribeOutcome(failed, fallbackPages, extracted);
        return reasons is null ? StageResult.Completed : StageResult.Degraded(reasons);
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
        if (head.AsSpan(0, read).IndexOf("%PDF-"u8) < 0)
        {
            throw new PipelineFailure(
                FailureCodes.NotPdf,
                "The file is not a PDF: no %PDF- header in its first 1024 bytes. Upload a PDF document.");
        }
    }
}
