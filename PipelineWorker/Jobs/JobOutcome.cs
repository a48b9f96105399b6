namespace Suite.PipelineWorker.Jobs;

/// <summary>What became of one delivery of a job, and so what happens to its stream entry.</summary>
internal enum JobOutcome
{
    /// <summary>Result stored: acknowledge.</summary>
    Completed,

    /// <summary>Permanent failure reported: acknowledge.</summary>
    Failed,

    /// <summary>The document was already completed, failed or cancelled (also: cancelled while it ran): acknowledge.</summary>
    AlreadyTerminal,

    /// <summary>The entry cannot be processed ever (unknown document, no document id): acknowledge.</summary>
    Discarded,

    /// <summary>The deliveries ran out; the document was failed as dead_lettered: move the entry to the dead-letter stream.</summary>
    DeadLettered,

    /// <summary>A stage failed transiently and the document was released: retry later, as one more attempt.</summary>
    Retry,

    /// <summary>
    /// The job could not be worked on (IngestService unreachable, or another worker's live lease on the document):
    /// put it back for later without counting an attempt. Only a finished document ends a job.
    /// </summary>
    Wait,

    /// <summary>A newer lease exists: another worker owns the document now. Leave the entry alone.</summary>
    LeaseLost,

    /// <summary>The worker is stopping (or Redis failed mid-way): leave the entry pending; it is reclaimed after the visibility timeout.</summary>
    Abandoned,
}

/// <summary>One delivery's outcome, with the reason (retries, dead letters) and how long to wait before the next delivery.</summary>
internal sealed record JobResult(JobOutcome Outcome, string? Reason = null, TimeSpan Delay = default)
{
    public static readonly JobResult Completed = new(JobOutcome.Completed);
    public static readonly JobResult Failed = new(JobOutcome.Failed);
    public static readonly JobResult AlreadyTerminal = new(JobOutcome.AlreadyTerminal);
    public static readonly JobResult Discarded = new(JobOutcome.Discarded);
    public static readonly JobResult LeaseLost = new(JobOutcome.LeaseLost);
    public static readonly JobResult Abandoned = new(JobOutcome.Abandoned);
}

internal static class JobOutcomeExtensions
{
    public static bool ShouldAcknowledge(this JobOutcome outcome) =>
        outcome is JobOutcome.Completed or JobOutcome.Failed or JobOutcome.AlreadyTerminal or JobOutcome.Discarded;

    public static string ToMetricName(this JobOutcome outcome) => outcome switch
    {
        JobOutcome.Completed => "completed",
        JobOutcome.Failed => "failed",
        JobOutcome.AlreadyTerminal => "already_terminal",
        JobOutcome.Discarded => "discarded",
        JobOutcome.DeadLettered => "dead_lettered",
        JobOutcome.Retry => "retry",
        JobOutcome.Wait => "wait",
        JobOutcome.LeaseLost => "lease_lost",
        _ => "abandoned",
    };
}
