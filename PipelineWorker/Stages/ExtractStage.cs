using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Readers;
using UglyToad.PdfPig.Content;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// extract: the words of every page with their boxes, font names and sizes, and the document's form fields.
/// PdfPig reads first; where it cannot open the document or a page, or finds no readable text on a page, poppler's
/// pdftotext reads that page (<see cref="PageTextReader"/>; words without font names, the stage is then degraded with
/// the reason). A page neither can read is recorded empty with its error and the document goes on (degraded); only a
/// document of which no page at all can be read fails. Pages without words are fine: image-only pages get OCR later.
/// Only the pages of the request's pageRange are read and written: later stages work from this checkpoint's pages, so
/// the other pages are never processed and never appear in the result. The checkpoint is a JSON array written page by page, so memory does not grow with the page count; it carries
/// poppler's words too, so a resume after this stage never asks poppler again.
/// </summary>
/// <remarks>
/// Any other format is read by its reader (<see cref="DocumentReaders"/>), page by page into the same array: an image's
/// frames as pages without words (OCR reads them), a structured document's pages with their elements.
/// </remarks>
internal sealed class ExtractStage(TextFallback fallback, DocumentReaders readers) : IPipelineStage
{
    public string Name => PipelineStageNames.Extract;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (readers.For(await ValidateStage.FormatAsync(context, cancellationToken)) is { } formatReader)
        {
            await ReadWithAsync(formatReader, context, cancellationToken);
            return StageResult.Completed;
        }

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
        var pageCount = await PageCountAsync(context, document, cancellationToken);
        var selected = Enumerable.Range(1, pageCount).Where(context.IncludesPage).ToList();
        // Each field goes onto its widget's page in the checkpoint; one without a (valid) page onto the first page read.
        var formFields = (document is null ? [] : FormFieldReader.Read(document))
            .ToLookup(f => f.Page is { } p && p >= 1 && p <= pageCount ? p : selected.FirstOrDefault(1));
        var reader = new PageTextReader(document, openError, context.ContentPath, fallback, pageCount);
        var failed = new List<int>();
        var fallbackPages = new List<(int Page, string Reason)>();
        var passingMisses = 0;

        await Checkpoints.WriteAtomicallyAsync(context.CheckpointPath(Name), async stream =>
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
                throw new TransientStageException(Name, $"None of the {pageCount} pages could be read now: PdfPig cannot, and poppler timed out or its breaker is open; the job will be retried.");
            }

            throw new PipelineFailure(
                FailureCodes.NoReadablePages,
                $"None of the {pageCount} pages could be read. The file is damaged; repair or re-export it and upload it again.");
        }

        var reasons = DescribeOutcome(failed, fallbackPages, extracted);
        return reasons is null ? StageResult.Completed : StageResult.Degraded(reasons);
    }

    /// <summary>A non-PDF document: its reader's pages (those of the request's pageRange: frames, slides), written one at a time.</summary>
    private async Task ReadWithAsync(IDocumentReader reader, StageContext context, CancellationToken cancellationToken)
    {
        var count = 0;
        // The total for progress: validate's count (none when extract runs alone, in a test).
        var total = File.Exists(context.CheckpointPath(PipelineStageNames.Validate)) ? await PageCountAsync(context, null, cancellationToken) : 0;
        var selected = Enumerable.Range(1, total).Count(context.IncludesPage);
        await Checkpoints.WriteAtomicallyAsync(context.CheckpointPath(Name), async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartArray();
            foreach (var page in reader.ReadPages(context.ContentPath, cancellationToken))
            {
                if (!context.IncludesPage(page.Number))
                {
                    continue;
                }

                JsonSerializer.Serialize(writer, page, Checkpoints.JsonOptions);
                await writer.FlushAsync(cancellationToken);
                context.ReportPages(++count, Math.Max(selected, count));
            }

            writer.WriteEndArray();
            await writer.FlushAsync(cancellationToken);
        });

        if (count == 0)
        {
            throw new PipelineFailure(FailureCodes.NoPages, "The document has no pages. Upload another file.");
        }
    }

    public async Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await using var stream = File.OpenRead(context.CheckpointPath(Name));
            var last = 0;
            await foreach (var page in JsonSerializer.DeserializeAsyncEnumerable<ExtractedPage>(stream, Checkpoints.JsonOptions, cancellationToken))
            {
                // Pages in order, each one the request's pageRange includes (all, without one).
                if (page is null || page.Number <= last || !context.IncludesPage(page.Number) || page.Words is null
                    || (context.Options.PageRange is null && page.Number != last + 1))
                {
                    return false;
                }

                last = page.Number;
            }

            return last > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Streams the pages of an extract checkpoint in page order.</summary>
    public static async IAsyncEnumerable<ExtractedPage> ReadPagesAsync(
        string checkpointPath,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(checkpointPath);
        await foreach (var page in JsonSerializer.DeserializeAsyncEnumerable<ExtractedPage>(stream, Checkpoints.JsonOptions, cancellationToken))
        {
            if (page is not null)
            {
                yield return page;
            }
        }
    }

    /// <summary>
    /// Why the stage is degraded, from its pages: those recorded with an error (unreadable, empty) and those poppler read
    /// in PdfPig's place (with the first reason); null when PdfPig read every page. Assemble says the same in the result.
    /// </summary>
    public static string? DescribeOutcome(IReadOnlyCollection<int> failed, IReadOnlyList<(int Page, string Reason)> fallbackPages, int pageCount)
    {
        var reasons = new List<string>();
        if (failed.Count > 0)
        {
            reasons.Add($"{failed.Count} of {pageCount} pages could not be read and are empty: {string.Join(", ", failed.Take(20))}{(failed.Count > 20 ? ", ..." : "")}");
        }

        if (fallbackPages.Count > 0)
        {
            reasons.Add(
                $"{fallbackPages.Count} of {pageCount} pages were read by poppler's pdftotext instead of PdfPig (pages {StageCheckpoint.Pages(fallbackPages.Select(p => p.Page).ToList())}; " +
                $"first: {fallbackPages[0].Reason}); their words have estimated boxes and no font names");
        }

        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>The page count validate settled on (poppler's when PdfPig could not count); PdfPig's when there is no validate checkpoint.</summary>
    private static async Task<int> PageCountAsync(StageContext context, UglyToad.PdfPig.PdfDocument? document, CancellationToken cancellationToken)
    {
        try
        {
            if (await Checkpoints.ReadAsync<ValidateCheckpoint>(context.CheckpointPath(PipelineStageNames.Validate), cancellationToken) is { PageCount: > 0 } validated)
            {
                return validated.PageCount;
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or JsonException)
        {
            // Stages run in order, so this is a test or tool running extract alone.
        }

        return document?.NumberOfPages ?? throw new PipelineFailure(FailureCodes.CorruptStructure, "The PDF cannot be read and its page count is unknown.");
    }

    /// <summary>
    /// Cleans a word's text: ligature glyphs (U+FB00-FB06) become their letters, so "Deﬁnition" is found as
    /// "Definition" (explicitly: full NFKC would also rewrite mathematical symbols, and the service runs with
    /// invariant globalization), and control characters (NUL from unmapped glyphs) are dropped.
    /// </summary>
    internal static string CleanText(Word word)
    {
        // Letters first: undecoded TeX codes become their characters before control characters are dropped.
        var text = word.Letters.Count == 0
            ? word.Text
            : string.Concat(word.Letters.Select(l => TexFontText.Decode(l.FontName, l.Value) ?? l.Value));
        return CleanText(text);
    }

    internal static string CleanText(string text)
    {
        if (!text.Any(c => char.IsControl(c) || c is >= '\uFB00' and <= '\uFB06'))
        {
            return text;
        }

        var cleaned = new System.Text.StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (!char.IsControl(c))
            {
                cleaned.Append(c switch
                {
                    '\uFB00' => "ff",
                    '\uFB01' => "fi",
                    '\uFB02' => "fl",
                    '\uFB03' => "ffi",
                    '\uFB04' => "ffl",
                    '\uFB05' or '\uFB06' => "st",
                    _ => c.ToString(),
                });
            }
        }

        return cleaned.ToString();
    }

    internal static ExtractedWord ToExtracted(Word word)
    {
        var box = word.BoundingBox;
        var size = word.Letters.Count > 0 ? word.Letters[0].PointSize : 0;
        return new ExtractedWord(
            CleanText(word),
            Checkpoints.Round(box.Left),
            Checkpoints.Round(box.Bottom),
            Checkpoints.Round(box.Right),
            Checkpoints.Round(box.Top),
            word.FontName,
            Checkpoints.Round(size));
    }
}
