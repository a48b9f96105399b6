using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IngestService.Api;

/// <summary>The service's own traces and metrics (exported because their names start with "Suite.").</summary>
internal static class IngestTelemetry
{
    public const string Name = "Suite.IngestService";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Uploads by outcome: accepted, or the problem code they were refused with.</summary>
    public static readonly Counter<long> Uploads = Meter.CreateCounter<long>("ingest.uploads", description: "Uploads by outcome");

    public static readonly Counter<long> UploadedBytes = Meter.CreateCounter<long>("ingest.uploaded_bytes", "By", "Bytes of accepted uploads");

    /// <summary>Job enqueues by outcome (ok, failed) and origin (upload, sweeper).</summary>
    public static readonly Counter<long> Enqueues = Meter.CreateCounter<long>("ingest.enqueues", description: "Job enqueues by outcome and origin");

    public static readonly Counter<long> StaleLeases = Meter.CreateCounter<long>("ingest.stale_leases", description: "Worker writes refused for a stale lease");

    /// <summary>Checkpoints that failed validation on read and were quarantined (Req CK-2), by stage.</summary>
    public static readonly Counter<long> QuarantinedCheckpoints = Meter.CreateCounter<long>("ingest.checkpoints.quarantined", description: "Checkpoints quarantined after failing validation");

    /// <summary>Jobs the sweeper added again because Redis had none for an unfinished document.</summary>
    public static readonly Counter<long> RequeuedJobs = Meter.CreateCounter<long>("ingest.jobs.requeued", description: "Lost jobs re-queued by the sweeper");

    /// <summary>Claims refused because another worker's lease was live (duplicate deliveries).</summary>
    public static readonly Counter<long> RefusedClaims = Meter.CreateCounter<long>("ingest.claims.refused", description: "Claims refused for a live lease of another worker");

    /// <summary>Documents cancelled and retried through the public API.</summary>
    public static readonly Counter<long> Cancels = Meter.CreateCounter<long>("ingest.documents.cancelled", description: "Documents cancelled by request");

    public static readonly Counter<long> Retries = Meter.CreateCounter<long>("ingest.documents.retried", description: "Failed or cancelled documents queued again by request");

    /// <summary>Files and folders the orphan sweeper removed, by kind (temp, upload, results, checkpoints).</summary>
    public static readonly Counter<long> OrphansRemoved = Meter.CreateCounter<long>("ingest.storage.orphans_removed", description: "Orphaned files and folders removed from the storage root");

    public static void CountUpload(string outcome) => Uploads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
