namespace Suite.Contracts;

/// <summary>
/// Redis keys and field names of the work queue, shared by the producer (IngestService) and the consumers
/// (PipelineWorker). The stream is never trimmed with MAXLEN: that would delete pending jobs. Instead an entry is
/// deleted (XDEL) in the same script as its XACK, so the stream holds only live jobs (waiting or pending) and
/// "is this document's job still in Redis?" can be answered by reading it. There is one stream per
/// <see cref="JobPriority"/>, each with the same consumer group; retries, dead letters and the wake channel are shared.
/// </summary>
public static class JobStreams
{
    /// <summary>The interactive jobs stream (the only one before priorities: its entries need no priority field).</summary>
    public const string Jobs = "suite:jobs";

    /// <summary>The batch jobs stream; workers read it when the interactive one has nothing for them.</summary>
    public const string BatchJobs = "suite:jobs:batch";

    /// <summary>Every jobs stream, interactive first (the order workers read, reclaim and resume them in).</summary>
    public static readonly IReadOnlyList<string> AllJobs = [Jobs, BatchJobs];

    /// <summary>The consumer group every worker reads the jobs streams with.</summary>
    public const string ConsumerGroup = "pipeline";

    /// <summary>Pub/sub channel nudging idle workers after an XADD. At-most-once: the poll stays the safety net.</summary>
    public const string WakeChannel = "suite:jobs:wake";

    /// <summary>Where jobs that exhausted their deliveries are moved.</summary>
    public const string DeadLetters = "suite:jobs:dead";

    /// <summary>
    /// Jobs waiting to be retried after a transient failure: a sorted set scored by the due time (Unix ms, Redis
    /// clock) whose members are the job's fields as a JSON object of strings. Consumers move due members back into
    /// the stream of their <see cref="PriorityField"/> (XADD + ZREM in one script), so a job is always in exactly one place.
    /// </summary>
    public const string Delayed = "suite:jobs:delayed";

    public const string DocumentIdField = "documentId";
    public const string EnqueuedAtField = "enqueuedAt";
    public const string TraceParentField = "traceparent";

    /// <summary>The job's <see cref="JobPriority"/>; absent means interactive (entries from before priorities).</summary>
    public const string PriorityField = "priority";

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

    /// <summary>The stream a job of <paramref name="priority"/> goes to (unknown or null: the interactive one).</summary>
    public static string StreamOf(string? priority) => priority == JobPriority.Batch ? BatchJobs : Jobs;

    /// <summary>The priority of the jobs in <paramref name="stream"/>.</summary>
    public static string PriorityOf(string stream) => stream == BatchJobs ? JobPriority.Batch : JobPriority.Interactive;
}
