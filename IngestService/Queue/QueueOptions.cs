using System.ComponentModel.DataAnnotations;

namespace IngestService.Queue;

/// <summary>The job queue producer and its sweeper (section <c>Queue</c>).</summary>
internal sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>How often the sweeper looks for documents whose enqueue failed.</summary>
    [Range(1, 3600, ErrorMessage = "Queue:SweepIntervalSeconds must be from 1 to 3600.")]
    public int SweepIntervalSeconds { get; set; } = 5;

    /// <summary>How long an upload waits for Redis (the consumer group check and the XADD together) before leaving the job to the sweeper.</summary>
    [Range(100, 30_000, ErrorMessage = "Queue:EnqueueTimeoutMs must be from 100 to 30000.")]
    public int EnqueueTimeoutMs { get; set; } = 2000;

    /// <summary>
    /// An unfinished document without a sign of life (claim, heartbeat, report) for this long is checked against
    /// Redis (every half of this); if Redis holds no job for it (lost in a restart, or its worker died after its job
    /// was dropped as a duplicate), the job is added again. Keep it above the workers' visibility timeout.
    /// </summary>
    [Range(2, 86_400, ErrorMessage = "Queue:VerifyAfterSeconds must be from 2 to 86400.")]
    public int VerifyAfterSeconds { get; set; } = 60;

    /// <summary>How long a metrics collection waits for Redis to answer the queue gauges (they report nothing when it does not).</summary>
    [Range(50, 5000, ErrorMessage = "Queue:MetricsTimeoutMs must be from 50 to 5000.")]
    public int MetricsTimeoutMs { get; set; } = 1000;

    /// <summary>Documents handled per sweep.</summary>
    [Range(1, 10_000, ErrorMessage = "Queue:SweepBatchSize must be from 1 to 10000.")]
    public int SweepBatchSize { get; set; } = 100;
}
