using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.ServiceDefaults.Resilience;

namespace IngestService.Scanning;

/// <summary>
/// Scans the documents held as awaiting_scan once clamd answers again (Req AV-2): every <c>Scanner:HeldPollSeconds</c>
/// it counts them (gauge <c>ingest.scan.held</c>) and, unless the scanner's breaker is open, scans up to
/// <c>Scanner:HeldBatchSize</c> of them oldest first, then enqueues or rejects each. A scan without a verdict ends the
/// round (the next poll tries again; while the breaker is open no round starts). Its state is the catalog row, so
/// documents held before a restart are scanned after it.
/// </summary>
internal sealed partial class HeldDocumentScanner(
    ScanCatalog scans,
    ScanGate gate,
    MalwareScanner scanner,
    DocumentReads reads,
    CatalogState catalogState,
    BlobStore blobs,
    ScanMetrics metrics,
    IOptions<ScannerOptions> options,
    TimeProvider time,
    ILogger<HeldDocumentScanner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!scanner.Enabled)
        {
            LogScanningOff();
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.HeldPollSeconds), time);
        do
        {
            try
            {
                await ScanHeldOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is SqliteException or CatalogUnavailableException or IOException or UnauthorizedAccessException)
            {
                LogRoundFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One round; returns how many held documents got a verdict.</summary>
    internal async Task<int> ScanHeldOnceAsync(CancellationToken cancellationToken)
    {
        if (!catalogState.IsAvailable)
        {
            return 0;
        }

        metrics.SetHeld(await scans.CountHeldAsync(cancellationToken));
        if (metrics.Held == 0 || scanner.BreakerState == BreakerState.Open)
        {
            return 0;
        }

        var settled = 0;
        foreach (var id in await scans.FindHeldAsync(options.Value.HeldBatchSize, cancellationToken))
        {
            var path = blobs.UploadPath(id);
            if (!File.Exists(path))
            {
                if (!blobs.IsPresent)
                {
                    // The storage root is gone, not the file: try again on a later pass.
                    return settled;
                }

                LogFileMissing(id, path);
                continue;
            }

            var outcome = await gate.ScanAsync(path, cancellationToken);
            var queued = outcome.Verdict is ScanVerdict.Clean or ScanVerdict.NotScanned;
            var traceParent = queued ? await reads.TraceParentAsync(id, cancellationToken) : null;
            var priority = (queued ? (await reads.FindAsync(id, cancellationToken))?.Priority : null) ?? JobPriority.Interactive;
            var settlement = await gate.SettleAsync(id, path, outcome, priority, "scan", traceParent);
            if (outcome.Verdict == ScanVerdict.Unavailable)
            {
                break;
            }

            if (settlement.Status is { } status)
            {
                settled++;
                LogSettled(id, status, settlement.EntryId ?? (status == DocumentStatus.Queued ? "(sweeper)" : "-"));
            }
        }

        if (settled > 0)
        {
            metrics.SetHeld(await scans.CountHeldAsync(cancellationToken));
        }

        return settled;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Held document {DocumentId} scanned: now {Status} (job {EntryId})")]
    private partial void LogSettled(string documentId, string status, string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Held document {DocumentId} has no file at {Path}; it stays awaiting_scan")]
    private partial void LogFileMissing(string documentId, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malware scanning is switched off (Scanner:Enabled=false): uploads are queued unscanned. Never run so in production.")]
    private partial void LogScanningOff();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scan of held documents failed; the next poll retries: {Error}")]
    private partial void LogRoundFailed(string error);
}
