namespace Suite.Contracts;

/// <summary>
/// IngestService's internal API for workers. Served on the ingest service only, never routed by the gateway.
/// Every write carries the lease token returned by the claim; a write with a stale token is refused (409).
/// Methods: POST claim, GET content, PUT stages/{stage} (a report overwrites the previous one), PUT and GET
/// checkpoints/{stage}, PUT result, POST failure.
/// </summary>
public static class InternalApi
{
    public const string Prefix = "/internal";
    public const string LeaseTokenHeader = "X-Lease-Token";

    public static string Claim(string documentId) => $"{Prefix}/documents/{documentId}/claim";
    public static string Content(string documentId) => $"{Prefix}/documents/{documentId}/content";
    public static string Stage(string documentId, string stage) => $"{Prefix}/documents/{documentId}/stages/{stage}";
    public static string Checkpoint(string documentId, string stage) => $"{Prefix}/documents/{documentId}/checkpoints/{stage}";
    public static string Result(string documentId) => $"{Prefix}/documents/{documentId}/result";
    public static string Failure(string documentId) => $"{Prefix}/documents/{documentId}/failure";
}

/// <summary>A worker asks to process a document.</summary>
public sealed record ClaimRequest(string WorkerId);

/// <summary>
/// The claim granted: a new lease token (greater than every earlier one for the document) and what is known.
/// When the document is already terminal, <see cref="Status"/> says so and the worker just acknowledges the job.
/// </summary>
public sealed record ClaimResponse(
    string DocumentId,
    string FileName,
    string Status,
    long LeaseToken,
    long SizeBytes,
    IReadOnlyList<string> CheckpointedStages);

/// <summary>A stage's progress: running, completed, degraded (with reason), skipped (with reason) or failed.</summary>
public sealed record StageReport(string Status, string? Detail = null);

/// <summary>The finished result in its three renderings; storing it completes the document.</summary>
public sealed record ResultSubmission(string Json, string Markdown, string Text);

/// <summary>A permanent failure ending the document as failed.</summary>
public sealed record FailureReport(string Code, string Message);
