namespace Suite.Contracts;

/// <summary>Lifecycle of a document as the public API reports it.</summary>
public static class DocumentStatus
{
    /// <summary>Accepted and stored, waiting for its malware scan (the scanner was unavailable); never processed before it is clean.</summary>
    public const string AwaitingScan = "awaiting_scan";

    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Refused after upload (malware found): its file is deleted and it is never processed or retried.</summary>
    public const string Rejected = "rejected";

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled or Rejected;

    /// <summary>Statuses a worker may claim: anything else (not yet scanned, or finished) is never processed.</summary>
    public static bool IsClaimable(string status) => status is Queued or Processing;
}

/// <summary>Status of one pipeline stage of one document.</summary>
public static class StageStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Degraded = "degraded";
    public const string Skipped = "skipped";
    public const string Failed = "failed";

    public static bool IsKnown(string status) => status is Pending or Running or Completed or Degraded or Skipped or Failed;
}

/// <summary>The pipeline's stages, in order. IngestService lists them on every document; the worker runs them.</summary>
public static class PipelineStageNames
{
    public const string Validate = "validate";
    public const string Extract = "extract";
    public const string Render = "render";
    public const string Ocr = "ocr";
    public const string Layout = "layout";
    public const string ReadingOrder = "reading-order";
    public const string Tables = "tables";
    public const string Pictures = "pictures";
    public const string Describe = "describe";
    public const string Assemble = "assemble";

    public static readonly IReadOnlyList<string> All = [Validate, Extract, Render, Ocr, Layout, ReadingOrder, Tables, Pictures, Describe, Assemble];
}
