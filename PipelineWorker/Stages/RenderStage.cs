using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Jobs;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// render: a PNG of every page (pdftoppm, one process per page, DPI capped by pixels), stored through
/// IngestService one page at a time and deleted locally, so neither memory nor disk grows with the page count.
/// Fallback (DEG-5): a page that cannot be rendered (engine missing, timeout with its process group killed,
/// crash, open breaker) simply has no image; the stage is <c>degraded</c> with the reason and the pipeline goes on.
/// Transient: IngestService unreachable (the job is redelivered). Permanent: none.
/// </summary>
internal sealed class RenderStage(
    PageRenderer renderer,
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

        var engine = await engines.RendererAsync();
        if (!engine.Available)
        {
            return (StageNote.Degraded(engine.Unavailable + "; pages have no images"), []);
        }

        var pages = new List<(int Number, double Width, double Height)>();
        await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), cancellationToken))
        {
            pages.Add((page.Number, page.Width, page.Height));
        }

        var scratch = context.ScratchDirectory(Name);
        var rendered = new ConcurrentBag<RenderedPageInfo>();
        var failures = new ConcurrentBag<(int Page, string Reason)>();
        var pageTimeout = TimeSpan.FromSeconds(o.PageTimeoutSeconds);
        using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
        var timedOut = false;
        try
        {
            await Parallel.ForEachAsync(pages, new ParallelOptions { MaxDegreeOfParallelism = o.MaxParallelism, CancellationToken = clock.Token }, async (page, token) =>
            {
                var outputBase = Path.Combine(scratch, $"page-{page.Number}");
                try
                {
                    var image = await renderer.RenderAsync(context.ContentPath, page.Number, page.Width, page.Height, o.Dpi, o.MaxPixels, outputBase, pageTimeout, token);
                    if (await artifacts.PutPageImageAsync(context, page.Number, image.Path, token))
                    {
                        rendered.Add(new RenderedPageInfo(page.Number, image.WidthPx, image.HeightPx, image.Dpi));
                    }
                }
                catch (EngineException ex)
                {
                    failures.Add((page.Number, ex.Message));
                }
                catch (ArtifactRejectedException ex)
                {
                    failures.Add((page.Number, ex.Message));
                }
                finally
                {
                    File.Delete(outputBase + ".png");
                }
            });
        }
        catch (OperationCanceledException) when (clock.Expired)
        {
            timedOut = true;
        }

        var done = rendered.OrderBy(p => p.Page).ToList();
        var reasons = new List<string>();
        if (!failures.IsEmpty)
        {
            var failed = failures.OrderBy(f => f.Page).ToList();
            reasons.Add($"{failed.Count} of {pages.Count} pages have no image (pages {StageCheckpoint.Pages(failed.Select(f => f.Page).ToList())}): {failed[0].Reason}");
        }

        if (timedOut)
        {
            var missing = pages.Select(p => p.Number).Except(done.Select(p => p.Page)).Except(failures.Select(f => f.Page)).Order().ToList();
            reasons.Add($"stopped at the stage timeout of {clock.Describe()}; {missing.Count} pages were not rendered (pages {StageCheckpoint.Pages(missing)})");
        }

        return (reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons)), done);
    }
}
