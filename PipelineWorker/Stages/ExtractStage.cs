using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Readers;
using UglyToad.PdfPig.Content;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// extract: the pages of the document by its format's reader (<see cref="DocumentReaders"/>; a PDF's words with their
/// boxes, fonts and form fields, poppler reading where PdfPig cannot; an image's frames as pages without words, which
/// OCR reads; a structured document's pages with their elements). Only the pages of the request's pageRange are read
/// and written: later stages work from this checkpoint's pages, so the other pages are never processed and never appear
/// in the result. The checkpoint is a JSON array written page by page, so memory does not grow with the page count.
/// </summary>
internal sealed class ExtractStage(DocumentReaders readers) : IPipelineStage
{
    public string Name => PipelineStageNames.Extract;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reader = readers.For(await ValidateStage.FormatAsync(context, cancellationToken));
        return await reader.ExtractAsync(context, await PageCountAsync(context, cancellationToken), cancellationToken);
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

    /// <summary>The page count validate settled on; counted again by the reader when there is no validate checkpoint (extract run alone, in a test).</summary>
    private async Task<int> PageCountAsync(StageContext context, CancellationToken cancellationToken)
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

        var format = await ValidateStage.FormatAsync(context, cancellationToken);
        var probed = await readers.For(format).ValidateAsync(context.ContentPath, new FileInfo(context.ContentPath).Length, format, cancellationToken);
        return probed.PageCount;
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
