namespace Suite.Contracts;

/// <summary>
/// Redis keys and field names of the work queue, shared by the producer (IngestService) and the consumers
/// (PipelineWorker). The stream is never trimmed with MAXLEN: that would delete pending jobs.
/// </summary>
public static class JobStreams
{
    /// <summary>The jobs stream; one entry per (re)queued document.</summary>
    public const string Jobs = "suite:jobs";

    /// <summary>The consumer group every worker reads the jobs stream with.</summary>
    public const string ConsumerGroup = "pipeline";

    /// <summary>Pub/sub channel nudging idle workers after an XADD. At-most-once: the poll stays the safety net.</summary>
    public const string WakeChannel = "suite:jobs:wake";

    /// <summary>Where jobs that exhausted their deliveries are moved.</summary>
    public const string DeadLetters = "suite:jobs:dead";

    public const string DocumentIdField = "documentId";
    public const string EnqueuedAtField = "enqueuedAt";
    public const string TraceParentField = "traceparent";
}
