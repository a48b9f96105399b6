using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Readers;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// render: a PNG of every page (pdftoppm, one process per page, DPI capped by pixels), stored through
/// IngestService one page at a time and deleted locally, so neither memory nor disk grows with the page count.
/// Fallback (DEG-5): a page that cannot be rendered (engine missing, timeout with its process group killed,
/// crash, open breaker) simply has no image; the stage is <c>degraded</c> with the reason and the pipeline goes on.
/// Transient: IngestService unreachable (the job is redelivered). Permanent: none.
/// </summary>
/// <remarks>
/// An image's page image is its frame as a PNG (Magick.NET, capped by the same pixels; pdftoppm is not needed); a
/// DOCX, PPTX, HTML or Markdown document has no rendering (its structure comes from the file): <c>skipped</c>.
/// </remarks>
internal sealed class RenderStage(
    PageRenderer renderer,
    ImageReader images,
    EngineRegistry engines,
    ArtifactClient artifacts,
    IOptions<RenderOptions> options,
    IOptions<WorkerOptions> worker) : IPipelineStage
{
    public string Name => PipelineStageNames.Render;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        var note = await RenderAsync(context, o, cancellationToken);
        await StageCheckpoint.WriteAsync(context, Name, new RenderCheckpoint(StageCheckpoint.Version, note.Note, note.Pages), cancellationToken);
        return note.Note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<RenderCheckpoint>(context, Name, c => c.Pages is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    private async Task<(StageNote Note, IReadOnlyList<RenderedPageInfo> Pages)> RenderAsync(StageContext context, RenderOptions o, CancellationToken cancellationToken)
    {
        if (!o.Enabled)
        {
            return (StageNote.Skipped("switched off by configuration (Pipeline:Render:Enabled=false); pages have no images"), []);
        }

        var format = await ValidateStage.FormatAsync(context, cancellationToken);
        var image = DocumentFormats.IsImage(format);
        if (!image && format != DocumentFormats.Pdf)
        {
            return (StageNote.Skipped($"a {format} document has no page images: its structure is read from the file, nothing is rendered"), []);
        }

        var engine = image ? null : await engines.RendererAsync();
        if (engine is { Available: false })
        {
            return (StageNote.Degraded(engine.Unavailable + "; pages have no images"), []);
        }

        var pages = new List<(int Number, double Width, double Height)>();
        await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), cancellationToken))
        {
            pages.Add((page.Number, page.Width, page.Height));
        }

        var scratch = context.ScratchDirectory(Name);
        var pageTimeout = TimeSpan.FromSeconds(o.PageTimeoutSeconds);
        using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
        var run = await PageFanOut.RunAsync(pages, p => p.Number, o.MaxParallelism, clock, async (page, token) =>
        {
            var outputBase = Path.Combine(scratch, $"page-{page.Number}");
            try
            {
                var rendered = image
                    ? images.WriteFrame(context.ContentPath, page.Number, outputBase + ".png", o.MaxPixels, gray: false)
                    : await renderer.RenderAsync(context.ContentPath, page.Number, page.Width, page.Height, o.Dpi, o.MaxPixels, outputBase, pageTimeout, token);
                return await artifacts.PutPageImageAsync(context, page.Number, rendered.Path, token)
                    ? new RenderedPageInfo(page.Number, rendered.WidthPx, rendered.HeightPx, rendered.Dpi)
                    : null;
            }
            finally
            {
                File.Delete(outputBase + ".png");
            }
        }, done => context.ReportPages(done, pages.Count));

        var reasons = new List<string>();
        if (run.Failed.Count > 0)
        {
            reasons.Add($"{run.Failed.Count} of {pages.Count} pages have no image (pages {StageCheckpoint.Pages(run.Failed.Select(f => f.Page).ToList())}): {run.Failed[0].Reason}");
        }

        if (run.TimedOut)
        {
            reasons.Add($"stopped at the stage timeout of {clock.Describe()}; {run.NotReached.Count} pages were not rendered (pages {StageCheckpoint.Pages(run.NotReached)})");
        }

        var done = run.Done;
        return (reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons)), done);
    }
}
