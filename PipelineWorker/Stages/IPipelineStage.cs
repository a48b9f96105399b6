using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// One named step of the pipeline. A stage reads its inputs from the job's work folder (the upload and the
/// checkpoints of earlier stages) and writes exactly one checkpoint file, which the worker then stores through
/// IngestService. Because stages only talk through those files, a job can resume after any stage.
/// </summary>
internal interface IPipelineStage
{
    /// <summary>One of <see cref="PipelineStageNames"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Runs the stage (CPU-bound; the caller runs it off the consumer loop) and writes its checkpoint to
    /// <see cref="StageContext.CheckpointPath"/>. Throws <see cref="PipelineFailure"/> for a permanent failure.
    /// </summary>
    Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken);

    /// <summary>Whether a checkpoint downloaded from an earlier attempt is complete and readable, so the stage can be skipped.</summary>
    Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The stage's own timeout (its options' <c>Pipeline:{Stage}:TimeoutSeconds</c>), or null when it has none. The stage
    /// enforces it itself, within the runner's limit for it (<c>Worker:StageTimeouts:{stage}</c>, else
    /// <c>Worker:StageTimeoutSeconds</c>, less a margin): an optional stage stops there and reports <c>degraded</c>
    /// with what it finished, so the runner's hard timeout is the last resort.
    /// </summary>
    TimeSpan? Timeout => null;

    /// <summary>
    /// Optional stages (render, ocr, tables, pictures, describe, ...) degrade instead of failing the document when
    /// their dependency fails; required ones (validate, extract, assemble) fail it.
    /// </summary>
    bool IsOptional => false;
}

/// <summary>How a stage ended: completed, or degraded with the reason (reported as the stage status).</summary>
internal sealed record StageResult(string Status, string? Detail = null)
{
    public static StageResult Completed { get; } = new(StageStatus.Completed);

    public static StageResult Degraded(string reason) => new(StageStatus.Degraded, reason);

    /// <summary>The stage did not run (switched off, not configured, nothing to do for it), with the reason.</summary>
    public static StageResult Skipped(string reason) => new(StageStatus.Skipped, reason);
}

/// <summary>The work folder of one job: where the upload and the checkpoints live while it is processed.</summary>
internal sealed class StageContext
{
    public StageContext(string documentId, string fileName, string workDirectory)
    {
        DocumentId = documentId;
        FileName = fileName;
        WorkDirectory = workDirectory;
        Directory.CreateDirectory(Path.Combine(workDirectory, "checkpoints"));
    }

    public string DocumentId { get; }

    /// <summary>
    /// The lease token of the worker's claim, sent with every artifact upload (page images, pictures). 0 in local
    /// runs (tests, benchmarks): artifacts then go to <see cref="ArtifactDirectory"/> when set, else nowhere.
    /// </summary>
    public long LeaseToken { get; init; }

    /// <summary>The document's pipeline options from the upload (the claim carries them); the defaults in local runs unless set.</summary>
    public DocumentOptions Options { get; init; } = DocumentOptions.Default;

    /// <summary>Whether the request's pageRange (all pages when it has none) includes page <paramref name="page"/>.</summary>
    public bool IncludesPage(int page) => RequestedPages is not { } range || range.Contains(page);

    private PageRange? RequestedPages => Options.PageRange is { } text && PageRange.TryParse(text, out var range, out _) ? range : null;

    /// <summary>Local runs only: where artifacts are copied instead of being uploaded to IngestService.</summary>
    public string? ArtifactDirectory { get; init; }

    public string FileName { get; }

    public string WorkDirectory { get; }

    /// <summary>Where a running stage reports its pages done (done, total); set by the worker around each stage, null in local runs.</summary>
    public Action<int, int>? PageProgress { get; set; }

    /// <summary>Reports that <paramref name="done"/> of <paramref name="total"/> pages of the running stage are done (never blocks).</summary>
    public void ReportPages(int done, int total) => PageProgress?.Invoke(done, total);

    /// <summary>The uploaded PDF, downloaded from IngestService.</summary>
    public string ContentPath => Path.Combine(WorkDirectory, "content.pdf");

    public string CheckpointPath(string stage) => Path.Combine(WorkDirectory, "checkpoints", stage + ".json");

    /// <summary>A private scratch folder of a stage (page images, picture files), created on demand.</summary>
    public string ScratchDirectory(string stage)
    {
        var path = Path.Combine(WorkDirectory, "scratch", stage);
        Directory.CreateDirectory(path);
        return path;
    }
}
