namespace Suite.Contracts;

/// <summary>
/// How urgently a document's job is wanted (Req LS-2). An upload chooses it (<c>POST /api/documents?priority=batch</c>);
/// the catalog keeps it, and every job of the document goes to that priority's stream (<see cref="JobStreams.StreamOf"/>).
/// Workers take interactive jobs before batch ones while both wait, except that a batch job waiting longer than
/// <c>Worker:BatchMaxWaitSeconds</c> is taken first on every other claim (see PipelineWorker/README.md).
/// </summary>
public static class JobPriority
{
    /// <summary>A person waits for the result: the default.</summary>
    public const string Interactive = "interactive";

    /// <summary>Bulk work that may wait behind interactive documents, but never for ever.</summary>
    public const string Batch = "batch";

    public static readonly IReadOnlyList<string> All = [Interactive, Batch];

    public static bool IsKnown(string? priority) => priority is Interactive or Batch;
}
