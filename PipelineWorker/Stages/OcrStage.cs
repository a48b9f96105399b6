using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Readers;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// ocr: text for pages with (almost) no text layer. Each such page is rendered for OCR (pdftoppm at
/// <see cref="OcrOptions.Dpi"/>, capped by pixels) and read by tesseract (TSV: words with boxes, converted to PDF
/// points in the same displayed-page space PdfPig uses). Pages run in parallel under a bound, each tesseract
/// single-threaded. The number of pages OCRed per document is capped (<see cref="OcrOptions.MaxPages"/>).
/// Fallback (DEG-4): text layer only; a page whose OCR fails (engine missing, timeout, crash, open breaker) stays
/// without text and the stage is <c>degraded</c> with the reason. Transient: none (no remote calls). Permanent: none.
/// </summary>
/// <remarks>
/// An image's frames are given to tesseract as they are (grey PNG from Magick.NET at the frame's own resolution, capped
/// by pixels), not rendered by pdftoppm; pages that came with their structure (DOCX, PPTX, HTML, Markdown) need no OCR.
/// </remarks>
internal sealed class OcrStage(
    PageRenderer renderer,
    ImageReader images,
    OcrEngine ocr,
    EngineRegistry engines,
    IOptions<OcrOptions> options,
    IOptions<WorkerOptions> worker) : IPipelineStage
{
    public string Name => PipelineStageNames.Ocr;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (note, pages) = await RecognizeAsync(context, options.Value, cancellationToken);
        await StageCheckpoint.WriteAsync(context, Name, new OcrCheckpoint(StageCheckpoint.Version, note, pages), cancellationToken);
        return note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<OcrCheckpoint>(context, Name, c => c.Pages is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    /// <summary>Pages whose text layer has fewer than <paramref name="minChars"/> non-space characters (or could not be read).</summary>
    public static bool NeedsOcr(ExtractedPage page, int minChars)
    {
        ArgumentNullException.ThrowIfNull(page);
        return !page.IsStructured && page.Words.Sum(w => w.Text.Count(c => !char.IsWhiteSpace(c))) < Math.Max(1, minChars);
    }

    private async Task<(StageNote Note, IReadOnlyList<OcrPageWords> Pages)> RecognizeAsync(StageContext context, OcrOptions o, CancellationToken cancellationToken)
    {
        // ocr=force (the request): every page, its words then replacing the text layer in layout; auto: pages without one.
        var force = context.Options.Ocr == OcrMode.Force;
        var candidates = new List<(int Number, double Width, double Height)>();
        await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), cancellationToken))
        {
            if (force || NeedsOcr(page, o.MinTextLayerChars))
            {
                candidates.Add((page.Number, page.Width, page.Height));
            }
        }

        if (context.Options.Ocr == OcrMode.Off)
        {
            return (StageNote.Skipped("switched off by the request (ocr=off)" + (candidates.Count == 0
                ? ""
                : $"; {candidates.Count} pages without a text layer have no text (pages {StageCheckpoint.Pages(candidates.Select(c => c.Number).ToList())})")), []);
        }

        if (!o.Enabled)
        {
            return (candidates.Count == 0
                ? StageNote.Skipped("switched off by configuration (Pipeline:Ocr:Enabled=false)")
                : StageNote.Skipped($"switched off by configuration (Pipeline:Ocr:Enabled=false); {candidates.Count} pages without a text layer have no text (pages {StageCheckpoint.Pages(candidates.Select(c => c.Number).ToList())})"), []);
        }

        if (candidates.Count == 0)
        {
            return (StageNote.Completed, []);
        }

        var missingPages = $"{candidates.Count} pages without a text layer have no text (pages {StageCheckpoint.Pages(candidates.Select(c => c.Number).ToList())})";
        var image = DocumentFormats.IsImage(await ValidateStage.FormatAsync(context, cancellationToken));
        foreach (var engine in image ? [await engines.OcrAsync()] : new[] { await engines.OcrAsync(), await engines.RendererAsync() })
        {
            if (!engine.Available)
            {
                return (StageNote.Degraded($"{engine.Unavailable}; text layer only: {missingPages}"), []);
            }
        }

        var reasons = new List<string>();
        var selected = candidates;
        if (candidates.Count > o.MaxPages)
        {
            selected = candidates.Take(o.MaxPages).ToList();
            var skipped = candidates.Skip(o.MaxPages).Select(c => c.Number).ToList();
            reasons.Add($"OCR is limited to {o.MaxPages} pages per document (Pipeline:Ocr:MaxPages); {skipped.Count} more pages have no text (pages {StageCheckpoint.Pages(skipped)})");
        }

        var scratch = context.ScratchDirectory(Name);
        using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
        var run = await PageFanOut.RunAsync(selected, p => p.Number, o.MaxParallelism, clock, async (page, token) =>
        {
            var outputBase = Path.Combine(scratch, $"ocr-{page.Number}");
            try
            {
                return await RecognizePageAsync(context, page, outputBase, o, image, token);
            }
            finally
            {
                File.Delete(outputBase + ".pgm");
                File.Delete(outputBase + ".png");
            }
        }, done => context.ReportPages(done, selected.Count));

        if (run.Failed.Count > 0)
        {
            reasons.Insert(0, $"OCR failed on {run.Failed.Count} of {selected.Count} pages, which have no text (pages {StageCheckpoint.Pages(run.Failed.Select(f => f.Page).ToList())}): {run.Failed[0].Reason}");
        }

        if (run.TimedOut)
        {
            reasons.Add($"stopped at the stage timeout of {clock.Describe()}; {run.NotReached.Count} pages were not OCRed (pages {StageCheckpoint.Pages(run.NotReached)})");
        }

        var done = run.Done;
        return (reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons)), done);
    }

    private async Task<OcrPageWords> RecognizePageAsync(
        StageContext context, (int Number, double Width, double Height) page, string outputBase, OcrOptions o, bool frame, CancellationToken cancellationToken)
    {
        // One budget for rendering and recognising the page; each process is killed with its group when it runs out.
        var budget = TimeSpan.FromSeconds(o.PageTimeoutSeconds);
        var started = DateTime.UtcNow;
        var image = frame
            ? images.WriteFrame(context.ContentPath, page.Number, outputBase + ".png", o.MaxPixels, gray: true)
            : await renderer.RenderAsync(context.ContentPath, page.Number, page.Width, page.Height, o.Dpi, o.MaxPixels, outputBase, budget, cancellationToken, grayForOcr: true);
        var remaining = budget - (DateTime.UtcNow - started);
        if (remaining <= TimeSpan.Zero)
        {
            throw new EngineException(EngineFailureKind.Timeout, $"rendering page {page.Number} for OCR used up its {o.PageTimeoutSeconds} s");
        }

        var words = (await ocr.RecognizeAsync(image.Path, Languages(context, o), image.Dpi, remaining, cancellationToken))
            .Where(w => w.Confidence >= o.MinConfidence && !string.IsNullOrWhiteSpace(ExtractStage.CleanText(w.Text)))
            .ToList();
        return new OcrPageWords(
            page.Number,
            ToPagePoints(words, image, page.Width, page.Height),
            words.Select(w => (w.Block * 1000 + w.Paragraph) * 1000 + w.Line).ToList(),
            words.Select(w => w.Block * 1000 + w.Paragraph).ToList());
    }

    /// <summary>The tesseract languages of the document: the request's ocrLanguages, else Pipeline:Ocr:Language.</summary>
    public static string Languages(StageContext context, OcrOptions o)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(o);
        return context.Options.OcrLanguages ?? o.Language;
    }

    /// <summary>
    /// Pixel boxes (origin top-left) to PDF points (origin bottom-left) of the displayed page. When the page size is
    /// unknown (a damaged page), the image's size at its DPI stands in for it.
    /// </summary>
    internal static List<ExtractedWord> ToPagePoints(IReadOnlyList<OcrWord> words, RenderedImage image, double widthPt, double heightPt)
    {
        var width = widthPt > 0 ? widthPt : image.WidthPx * 72 / image.Dpi;
        var height = heightPt > 0 ? heightPt : image.HeightPx * 72 / image.Dpi;
        var sx = width / Math.Max(1, image.WidthPx);
        var sy = height / Math.Max(1, image.HeightPx);
        return words
            .Select(w => new ExtractedWord(
                ExtractStage.CleanText(w.Text),
                Checkpoints.Round(w.Left * sx),
                Checkpoints.Round(height - (w.Top + w.Height) * sy),
                Checkpoints.Round((w.Left + w.Width) * sx),
                Checkpoints.Round(height - w.Top * sy),
                null,
                Checkpoints.Round(w.Height * sy)))
            .ToList();
    }
}
