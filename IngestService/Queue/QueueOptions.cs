using System.ComponentModel.DataAnnotations;

namespace IngestService.Queue;

/// <summary>The job queue producer and its sweeper (section <c>Queue</c>).</summary>
internal sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>How often the sweeper looks for documents whose enqueue failed.</summary>
    [Range(1, 3600, ErrorMessage = "Queue:SweepIntervalSeconds must be from 1 to 3600.")]
    public int SweepIntervalSeconds { get; set; } = 5;

    /// <summary>How long an upload waits for XADD before leaving the job to the sweeper.</summary>
    [Range(100, 30_000, ErrorMessage = "Queue:EnqueueTimeoutMs must be from 100 to 30000.")]
    public int EnqueueTimeoutMs { get; set; } = 2000;

    /// <summary>
    /// A document still queued this long after its job was added has its stream entry checked; if Redis lost it
    /// (a restart without persistence), the job is added again.
    /// </summary>
    [Range(10, 86_400, ErrorMessage = "Queue:VerifyAfterSeconds must be from 10 to 86400.")]
    public int VerifyAfterSeconds { get; set; } = 120;

    /// <summary>Documents handled per sweep.</summary>
    [Range(1, 10_000, ErrorMessage = "Queue:SweepBatchSize must be from 1 to 10000.")]
    public int SweepBatchSize { get; set; } = 100;
}
