using System.Diagnostics.Metrics;
using IngestService.Api;

namespace IngestService.Retention;

/// <summary>What retention gives back (Req OUT-2): documents removed by reason, and the bytes of their files.</summary>
internal static class RetentionMetrics
{
    private static readonly Meter Meter = new(IngestTelemetry.Name);

    public static readonly Counter<long> DocumentsRemoved =
        Meter.CreateCounter<long>("ingest.retention.documents_removed", description: "Documents removed by retention (reason expired) or by DELETE (reason deleted)");

    public static readonly Counter<long> BytesReclaimed =
        Meter.CreateCounter<long>("ingest.retention.bytes_reclaimed", "By", "Bytes of files removed with expired or deleted documents");
}
