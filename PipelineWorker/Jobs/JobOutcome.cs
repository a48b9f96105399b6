namespace Suite.PipelineWorker.Jobs;

/// <summary>What became of one job, and so whether its stream entry is acknowledged.</summary>
internal enum JobOutcome
{
    /// <summary>Result stored: acknowledge.</summary>
    Completed,

    /// <summary>Permanent failure reported: acknowledge.</summary>
    Failed,

    /// <summary>The document was already completed, failed or cancelled: acknowledge.</summary>
    AlreadyTerminal,

    /// <summary>The entry cannot be processed ever (unknown document, no document id): acknowledge.</summary>
    Discarded,

    /// <summary>A newer lease exists: another worker owns the document now. Do not acknowledge.</summary>
    LeaseLost,

    /// <summary>A dependency failed (network, Redis, disk): leave pending so it is redelivered.</summary>
    Transient,

    /// <summary>The worker is stopping: leave pending for another worker.</summary>
    Cancelled,
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
        JobOutcome.LeaseLost => "lease_lost",
        JobOutcome.Transient => "transient",
        _ => "cancelled",
    };
}
