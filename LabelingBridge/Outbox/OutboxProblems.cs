using System.Globalization;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Problems;

namespace LabelingBridge.Outbox;

/// <summary>The answers of a write the outbox refused in read-only mode (Req CB-5).</summary>
internal static class OutboxProblems
{
    /// <summary>507 <c>outbox_full</c> when the cause is a full disk, else 503 <c>outbox_read_only</c>; Retry-After is the next probe.</summary>
    public static IResult ReadOnly(DatabaseReadOnlyException refusal) => refusal.DiskFull
        ? ApiProblem.Result(507, "outbox_full", "The export outbox is out of disk space",
            "The bridge could not store this because its disk is full; nothing was queued. An operator must free space on the bridge's data volume.",
            retryable: true, retryAfter: refusal.RetryAfter)
        : ApiProblem.Result(503, "outbox_read_only", "The export outbox is in read-only mode",
            $"The export outbox is in read-only mode because writes failed: {refusal.Reason}. Nothing was stored. Reads (exports, annotations) " +
            $"still work; retry after {Math.Ceiling(refusal.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s, when the next write " +
            "probes whether writing works again.",
            retryable: true, retryAfter: refusal.RetryAfter,
            extensions: new Dictionary<string, object?> { ["readOnly"] = true, ["reason"] = refusal.Reason });
}
