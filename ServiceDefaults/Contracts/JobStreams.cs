namespace Suite.Contracts;

/// <summary>
/// Redis keys and field names of the work queue, shared by the producer (IngestService) and the consumers
/// (PipelineWorker). The stream is never trimmed with MAXLEN: that would delete pending jobs. Instead an entry is
/// deleted (XDEL) in the same script as its XACK, so the stream holds only live jobs (waiting or pending) and
/// "is this document's job still in Redis?" can be answered by reading it.
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

    /// <summary>
    /// Jobs waiting to be retried after a transient failure: a sorted set scored by the due time (Unix ms, Redis
    /// clock) whose members are the job's fields as a JSON object of strings. Consumers move due members back into
    /// <see cref="Jobs"/> (XADD + ZREM in one script), so a job is always in exactly one of the two.
    /// </summary>
    public const string Delayed = "suite:jobs:delayed";

    public const string DocumentIdField = "documentId";
    public const string EnqueuedAtField = "enqueuedAt";
    public const string TraceParentField = "traceparent";

    /// <summary>How many earlier deliveries of this job ended in a transient failure (absent = 0).</summary>
    public const string AttemptsField = "attempts";

    /// <summary>How many times the job was put back because IngestService could not be reached to claim it (not counted as deliveries).</summary>
    public const string WaitsField = "waits";

    /// <summary>Why the previous attempt failed.</summary>
    public const string LastErrorField = "lastError";

    /// <summary>The entry id this job was re-added for (retries and dead letters).</summary>
    public const string RetryOfField = "retryOf";

    /// <summary>Dead letters: how many deliveries the job had, and the reason it was given up.</summary>
    public const string DeliveriesField = "deliveries";

    public const string ReasonField = "reason";
}
