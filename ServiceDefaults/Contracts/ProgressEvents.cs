namespace Suite.Contracts;

/// <summary>
/// One state change of a document as clients see it over Server-Sent Events and WebSocket (docs/events.md). JSON
/// (camelCase, every member present, null where it does not apply):
/// <c>{ "seq", "documentId", "type", "at", "stage", "status", "detail", "page", "pages" }</c>.
/// </summary>
/// <param name="Seq">Per document, from 1, contiguous: the resume position of the document's streams.</param>
/// <param name="Type">One of <see cref="ProgressEventTypes"/>.</param>
/// <param name="At">When it happened (the catalog's clock, UTC, ISO-8601).</param>
/// <param name="Stage">The pipeline stage of a stage_* or page_progress event, else null.</param>
/// <param name="Status">The stage's status for stage_* and page_progress events, else the document's status after the change.</param>
/// <param name="Detail">Reason or text (a degraded or skipped stage's reason, a failure's code and message), or null.</param>
/// <param name="Page">page_progress only: pages of the stage done so far.</param>
/// <param name="Pages">page_progress only: pages the stage works on.</param>
public sealed record ProgressEvent(
    long Seq,
    string DocumentId,
    string Type,
    DateTimeOffset At,
    string? Stage,
    string? Status,
    string? Detail,
    int? Page,
    int? Pages);

/// <summary>The types of <see cref="ProgressEvent"/>, and the stream's own closing message <see cref="End"/>.</summary>
public static class ProgressEventTypes
{
    public const string Accepted = "accepted";

    /// <summary>The malware scanner could not answer; the document waits for its scan.</summary>
    public const string AwaitingScan = "awaiting_scan";

    /// <summary>The malware scan found the file clean.</summary>
    public const string Scanned = "scanned";

    /// <summary>A job for the document is in the queue (also when the sweeper queued a lost job again).</summary>
    public const string Queued = "queued";

    /// <summary>A worker took the document (each attempt).</summary>
    public const string Claimed = "claimed";

    public const string StageStarted = "stage_started";
    public const string StageCompleted = "stage_completed";
    public const string StageDegraded = "stage_degraded";
    public const string StageSkipped = "stage_skipped";
    public const string StageFailed = "stage_failed";

    /// <summary>Pages done inside a long stage, at a bounded rate.</summary>
    public const string PageProgress = "page_progress";

    /// <summary>An attempt failed transiently and waits for its retry, or a failed/cancelled document was queued again by request.</summary>
    public const string Retried = "retried";

    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The malware scan found a signature; the document is never processed.</summary>
    public const string Rejected = "rejected";

    /// <summary>Not an event: the last message of a document stream once the document is terminal.</summary>
    public const string End = "end";

    public static readonly IReadOnlyList<string> All =
    [
        Accepted, AwaitingScan, Scanned, Queued, Claimed, StageStarted, StageCompleted, StageDegraded, StageSkipped, StageFailed,
        PageProgress, Retried, Completed, Failed, Cancelled, Rejected,
    ];

    /// <summary>Types after which the document does not change unless it is retried.</summary>
    public static bool IsTerminal(string type) => type is Completed or Failed or Cancelled or Rejected;
}

/// <summary>The public routes of the event streams (through the gateway, with the API key).</summary>
public static class EventRoutes
{
    /// <summary>Server-Sent Events of one document; <c>Last-Event-ID</c> or <c>?after=</c> resume after a sequence number.</summary>
    public static string DocumentEvents(string documentId) => $"/api/documents/{documentId}/events";

    /// <summary>WebSocket of one document; <c>?after=</c> resumes after a sequence number.</summary>
    public static string DocumentSocket(string documentId) => $"/api/documents/{documentId}/ws";

    /// <summary>Server-Sent Events of every document of the calling client; the SSE id is the catalog's global position.</summary>
    public const string ClientEvents = "/api/events";

    /// <summary>The query parameter naming the position to resume after.</summary>
    public const string AfterParameter = "after";
}

/// <summary>WebSocket close statuses of the event streams.</summary>
public static class EventCloseCodes
{
    /// <summary>The document is terminal and every event was sent (after the <c>end</c> message).</summary>
    public const int Normal = 1000;

    /// <summary>The client did not keep up (its buffer filled); the reason names the last sequence number delivered.</summary>
    public const int SlowConsumer = 1008;

    /// <summary>An unexpected server error; reconnect with the last sequence number.</summary>
    public const int ServerError = 1011;

    /// <summary>The service is restarting (shutdown): reconnect, with <c>?after=</c> the last sequence number.</summary>
    public const int ServiceRestart = 1012;
}

/// <summary>
/// Worker → IngestService: pages of a running stage done so far (<see cref="InternalApi.StageProgress"/>). IngestService
/// records it as a page_progress event at a bounded rate and ignores it once the stage is no longer running.
/// </summary>
public sealed record PageProgressReport(int Page, int Pages, string? Detail = null);
