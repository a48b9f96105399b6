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
}

/// <summary>How a stage ended: completed, or degraded with the reason (reported as the stage status).</summary>
internal sealed record StageResult(string Status, string? Detail = null)
{
    public static StageResult Completed { get; } = new(StageStatus.Completed);

    public static StageResult Degraded(string reason) => new(StageStatus.Degraded, reason);
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

    public string FileName { get; }

    public string WorkDirectory { get; }

    /// <summary>The uploaded PDF, downloaded from IngestService.</summary>
    public string ContentPath => Path.Combine(WorkDirectory, "content.pdf");

    public string CheckpointPath(string stage) => Path.Combine(WorkDirectory, "checkpoints", stage + ".json");
}
