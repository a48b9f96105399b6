using System.Text.Json;
using Suite.Contracts;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// extract: the words of every page with their boxes, font names and sizes. A page that PdfPig cannot read is
/// recorded empty with its error and the document goes on (the stage is then degraded); only a document of
/// which no page at all can be read fails. Pages without words are fine: image-only pages get OCR later.
/// The checkpoint is a JSON array written page by page, so memory does not grow with the page count.
/// </summary>
internal sealed class ExtractStage : IPipelineStage
{
    public string Name => PipelineStageNames.Extract;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var document = PdfOpening.Open(context.ContentPath);
        var pageCount = document.NumberOfPages;
        var failed = new List<int>();

        await Checkpoints.WriteAtomicallyAsync(context.CheckpointPath(Name), async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartArray();
            for (var number = 1; number <= pageCount; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = ReadPage(document, number);
                if (page.Error is not null)
                {
                    failed.Add(number);
                }

                JsonSerializer.Serialize(writer, page, Checkpoints.JsonOptions);
                await writer.FlushAsync(cancellationToken);
                context.ReportPages(number, pageCount);
            }

            writer.WriteEndArray();
            await writer.FlushAsync(cancellationToken);
        });

        if (failed.Count == pageCount)
        {
            throw new PipelineFailure(
                FailureCodes.NoReadablePages,
                $"None of the {pageCount} pages could be read. The file is damaged; repair or re-export it and upload it again.");
        }

        return failed.Count == 0
            ? StageResult.Completed
            : StageResult.Degraded(DescribeFailedPages(failed, pageCount));
    }

    public async Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await using var stream = File.OpenRead(context.CheckpointPath(Name));
            var expected = 1;
            await foreach (var page in JsonSerializer.DeserializeAsyncEnumerable<ExtractedPage>(stream, Checkpoints.JsonOptions, cancellationToken))
            {
                if (page is null || page.Number != expected++ || page.Words is null)
                {
                    return false;
                }
            }

            return expected > 1;
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

    /// <summary>Pages recorded with an error (unreadable) in an extract checkpoint's pages.</summary>
    public static string DescribeFailedPages(IReadOnlyCollection<int> failed, int pageCount) =>
        $"{failed.Count} of {pageCount} pages could not be read and are empty: {string.Join(", ", failed.Take(20))}{(failed.Count > 20 ? ", ..." : "")}";

    private static ExtractedPage ReadPage(UglyToad.PdfPig.PdfDocument document, int number)
    {
        try
        {
            var page = document.GetPage(number);
            var words = page.GetWords(NearestNeighbourWordExtractor.Instance)
                .Select(ToExtracted)
                .Where(w => !string.IsNullOrWhiteSpace(w.Text))
                .ToList();
            return new ExtractedPage(number, Checkpoints.Round(page.Width), Checkpoints.Round(page.Height), words);
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            return new ExtractedPage(number, 0, 0, [], PdfOpening.Describe(ex));
        }
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

    private static ExtractedWord ToExtracted(Word word)
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
