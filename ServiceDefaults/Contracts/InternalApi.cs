namespace Suite.Contracts;

/// <summary>
/// IngestService's internal API for workers. Served on the ingest service only, never routed by the gateway.
/// Every write carries the lease token returned by the claim; a write with a stale token is refused (409).
/// Methods: POST claim, GET content, PUT stages/{stage} (a report overwrites the previous one), PUT and GET
/// checkpoints/{stage}, PUT result, POST failure, PUT artifacts (page images, pictures).
/// </summary>
public static class InternalApi
{
    public const string Prefix = "/internal";
    public const string LeaseTokenHeader = "X-Lease-Token";

    /// <summary>
    /// Problem codes with which IngestService refuses a call because it cannot serve any (its storage or catalog is
    /// unavailable, read-only, busy or full, or it is shutting down), not because of the document: a worker waits for
    /// it without spending the document's deliveries.
    /// </summary>
    public static readonly IReadOnlySet<string> ServiceUnavailableCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "storage_unavailable", "insufficient_storage", "catalog_unavailable", "catalog_busy", "catalog_read_only", "shutting_down",
    };

    public static string Claim(string documentId) => $"{Prefix}/documents/{documentId}/claim";
    public static string Content(string documentId) => $"{Prefix}/documents/{documentId}/content";
    public static string Stage(string documentId, string stage) => $"{Prefix}/documents/{documentId}/stages/{stage}";

    /// <summary>POST <see cref="PageProgressReport"/>: pages of a running stage done so far (recorded at a bounded rate).</summary>
    public static string StageProgress(string documentId, string stage) => $"{Prefix}/documents/{documentId}/stages/{stage}/progress";
    public static string Checkpoint(string documentId, string stage) => $"{Prefix}/documents/{documentId}/checkpoints/{stage}";
    public static string Result(string documentId) => $"{Prefix}/documents/{documentId}/result";
    public static string Failure(string documentId) => $"{Prefix}/documents/{documentId}/failure";

    /// <summary>POST: renews the lease (heartbeat) and answers the document's status, so a worker learns of a cancel.</summary>
    public static string Lease(string documentId) => $"{Prefix}/documents/{documentId}/lease";

    /// <summary>POST <see cref="ReleaseReport"/>: this attempt failed transiently; the job is retried later.</summary>
    public static string Release(string documentId) => $"{Prefix}/documents/{documentId}/release";

    /// <summary>GET: the document's history (claims, checkpoints, quarantines, releases, outcome), oldest first.</summary>
    public static string Events(string documentId) => $"{Prefix}/documents/{documentId}/events";

    /// <summary>
    /// Header carrying the checkpoint schema version: on PUT the version the payload was written in, on GET the
    /// version the worker can read (a stored checkpoint of another version is quarantined and recomputed).
    /// </summary>
    public const string CheckpointSchemaHeader = "X-Checkpoint-Schema";

    /// <summary>
    /// Header carrying the fingerprint of the document options a checkpoint was made under (<see cref="DocumentOptions.Fingerprint"/>),
    /// sent with every checkpoint PUT; a claim lists, and a GET serves, only checkpoints of the document's own options.
    /// </summary>
    public const string CheckpointOptionsHeader = "X-Checkpoint-Options";

    /// <summary>Header carrying a checkpoint payload's SHA-256 (lowercase hex) as IngestService recorded it.</summary>
    public const string ChecksumHeader = "X-Checksum-Sha256";

    /// <summary>PUT a rendered page (image/png), lease-fenced; served publicly at <c>/api/documents/{id}/pages/{n}/image</c>.</summary>
    public static string PageImageArtifact(string documentId, int pageNumber) => $"{Prefix}/documents/{documentId}/artifacts/pages/{pageNumber}.png";

    /// <summary>PUT an extracted picture (image/png or image/jpeg), lease-fenced; served publicly at <c>/api/documents/{id}/pictures/{pictureId}</c>.</summary>
    public static string PictureArtifact(string documentId, string pictureId) => $"{Prefix}/documents/{documentId}/artifacts/pictures/{pictureId}";
}

/// <summary>
/// A worker asks to process a document. With <see cref="LeaseSeconds"/> &gt; 0 the lease expires that long after the
/// claim or the last renewal, and while it is live a claim by another worker is refused (409 <c>lease_held</c>);
/// 0 keeps the lease until the next claim (no expiry, never refused).
/// </summary>
public sealed record ClaimRequest(string WorkerId, int LeaseSeconds = 0);

/// <summary>
/// The claim granted: a new lease token (greater than every earlier one for the document) and what is known.
/// When the document is already terminal, <see cref="Status"/> says so and the worker just acknowledges the job.
/// <see cref="BudgetUsedMs"/> is the processing time of the document's earlier attempts (since upload or the last
/// manual retry), which the worker deducts from the whole-document budget. <see cref="Options"/> are the document's
/// pipeline options (null from an ingest of the version before them: the defaults); <see cref="CheckpointedStages"/>
/// lists only checkpoints made under these options.
/// </summary>
public sealed record ClaimResponse(
    string DocumentId,
    string FileName,
    string Status,
    long LeaseToken,
    long SizeBytes,
    IReadOnlyList<string> CheckpointedStages,
    string? LastError = null,
    long BudgetUsedMs = 0,
    DocumentOptions? Options = null);

/// <summary>A stage's progress: running, completed, degraded (with reason), skipped (with reason) or failed.</summary>
public sealed record StageReport(string Status, string? Detail = null);

/// <summary>
/// The finished result in its renderings; storing it completes the document. <see cref="Html"/> is optional so that a
/// worker of the version before it (which submits JSON, Markdown and text only) still completes documents; such a
/// document answers <c>format=html</c> with 404 <c>result_format_unavailable</c>.
/// </summary>
public sealed record ResultSubmission(string Json, string Markdown, string Text, string? Html = null);

/// <summary>A permanent failure ending the document as failed.</summary>
public sealed record FailureReport(string Code, string Message);

/// <summary>Answer to a lease renewal: the lease is still the current one, and the document's status (e.g. cancelled).</summary>
public sealed record LeaseStatus(string DocumentId, string Status, long LeaseToken);

/// <summary>This attempt failed transiently (a stage timed out, a dependency failed); the job is retried at <see cref="RetryAt"/>.</summary>
public sealed record ReleaseReport(string Reason, DateTimeOffset? RetryAt = null);

/// <summary>One entry of a document's history (<see cref="InternalApi.Events"/>).</summary>
public sealed record DocumentEvent(
    long Seq,
    DateTimeOffset At,
    string Kind,
    string? Stage = null,
    long? LeaseToken = null,
    string? Worker = null,
    string? Detail = null);

/// <summary>The kinds of <see cref="DocumentEvent"/>.</summary>
public static class DocumentEventKinds
{
    public const string Accepted = "accepted";
    public const string Enqueued = "enqueued";
    public const string Claimed = "claimed";
    public const string ClaimRefused = "claim_refused";
    public const string Checkpoint = "checkpoint";
    public const string CheckpointQuarantined = "checkpoint_quarantined";
    public const string StaleLeaseRefused = "stale_lease_refused";
    public const string Released = "released";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Retried = "retried";
    public const string Requeued = "requeued";

    /// <summary>The malware scan found the file clean; the document is queued.</summary>
    public const string Scanned = "scanned";

    /// <summary>The malware scanner could not answer; the document waits for its scan.</summary>
    public const string ScanHeld = "scan_held";

    /// <summary>The malware scan found a signature; the document is rejected and its file deleted.</summary>
    public const string Rejected = "rejected";
}

/// <summary>Error codes a document can end with that come from delivery rather than from a stage.</summary>
public static class DeliveryErrorCodes
{
    /// <summary>The whole-document budget ran out.</summary>
    public const string Timeout = "timeout";

    /// <summary>The job used up its deliveries and was moved to the dead-letter stream.</summary>
    public const string DeadLettered = "dead_lettered";

    /// <summary>Not from delivery but from intake: the malware scan found a signature; the document is rejected, its file deleted.</summary>
    public const string MalwareDetected = "malware_detected";
}
