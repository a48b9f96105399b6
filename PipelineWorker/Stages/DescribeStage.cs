using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Jobs;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// describe (optional): a description of each stored picture from an OpenAI-compatible vision endpoint
/// (<see cref="VisionClient"/>: own resilience handler and circuit breaker). Off unless <c>Pipeline:Describe:Url</c>
/// is set (<c>skipped</c>, "not configured").
/// Fallback (DEG-3): pictures stay undescribed and the stage is <c>degraded</c> with the reason when the endpoint is
/// down, slow (beyond its attempt timeout), answering errors, or its breaker is open (then the remaining pictures
/// are not even tried: fail fast). Transient: none for the document. Permanent: none.
/// </summary>
internal sealed class DescribeStage(
    VisionClient vision,
    ArtifactClient artifacts,
    IOptions<DescribeOptions> options,
    IOptions<WorkerOptions> worker) : IPipelineStage
{
    public string Name => PipelineStageNames.Describe;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        var descriptions = new Dictionary<string, string>(StringComparer.Ordinal);
        StageNote note;
        if (!o.Enabled)
        {
            note = StageNote.Skipped("switched off by configuration (Pipeline:Describe:Enabled=false); pictures are not described");
        }
        else if (context.Options.DescribePictures == Switch.Off)
        {
            note = StageNote.Skipped("switched off by the request (describePictures=off); pictures are not described");
        }
        else if (!o.IsConfigured)
        {
            note = StageNote.Skipped("not configured (Pipeline:Describe:Url is not set); pictures are not described");
        }
        else
        {
            using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
            note = await DescribeAsync(context, o, descriptions, clock);
        }

        await StageCheckpoint.WriteAsync(context, Name, new DescribeCheckpoint(StageCheckpoint.Version, note, descriptions), cancellationToken);
        return note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<DescribeCheckpoint>(context, Name, c => c.Descriptions is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    private async Task<StageNote> DescribeAsync(StageContext context, DescribeOptions o, Dictionary<string, string> descriptions, StageClock clock)
    {
        var pictures = (await StageCheckpoint.ReadAsync<PicturesCheckpoint>(context, PipelineStageNames.Pictures, clock.Token)).Pictures
            .Where(p => p.ContentType is not null)
            .ToList();
        if (pictures.Count == 0)
        {
            return StageNote.Completed;
        }

        var failures = new List<(string Id, string Error)>();
        var notTried = new List<string>();
        string? stopReason = null;
        foreach (var picture in pictures)
        {
            if (stopReason is not null || descriptions.Count + failures.Count >= o.MaxPictures)
            {
                notTried.Add(picture.Id);
                continue;
            }

            try
            {
                var file = PicturesStage.LocalFile(context, picture);
                if (!File.Exists(file) && !await artifacts.TryGetPictureAsync(context, picture.Id, file, clock.Token))
                {
                    failures.Add((picture.Id, "its file is not available"));
                    continue;
                }

                var bytes = await File.ReadAllBytesAsync(file, clock.Token);
                if (bytes.Length > o.MaxImageBytes)
                {
                    failures.Add((picture.Id, $"its file is larger than Pipeline:Describe:MaxImageBytes ({o.MaxImageBytes} bytes)"));
                    continue;
                }

                descriptions[picture.Id] = await vision.DescribeAsync(bytes, picture.ContentType!, $"{context.DocumentId}:{picture.Id}", clock.Token);
            }
            catch (BrokenCircuitException)
            {
                // Fail fast: while the breaker is open nothing more is sent.
                stopReason = "the vision endpoint's circuit breaker is open after repeated failures";
                notTried.Add(picture.Id);
            }
            catch (OperationCanceledException) when (clock.Expired)
            {
                stopReason = $"the stage timeout of {clock.Describe()} was reached";
                notTried.Add(picture.Id);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or VisionRejectedException or IOException
                                       || (ex is TaskCanceledException && !clock.Token.IsCancellationRequested))
            {
                failures.Add((picture.Id, ex is TimeoutRejectedException
                    ? "the vision endpoint did not answer within its timeout"
                    : ex.Message));
            }
        }

        var reasons = new List<string>();
        if (failures.Count > 0)
        {
            reasons.Add($"{failures.Count} pictures could not be described ({string.Join(", ", failures.Take(5).Select(f => f.Id))}): {failures[0].Error}");
        }

        if (notTried.Count > 0)
        {
            reasons.Add(stopReason is null
                ? $"only {o.MaxPictures} pictures per document are described (Pipeline:Describe:MaxPictures); {notTried.Count} more are undescribed"
                : $"{notTried.Count} pictures were not sent because {stopReason}");
        }

        return reasons.Count == 0
            ? StageNote.Completed
            : StageNote.Degraded($"{pictures.Count - descriptions.Count} of {pictures.Count} pictures stay undescribed: " + string.Join("; ", reasons));
    }
}
