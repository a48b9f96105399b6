using IngestService.Queue;
using Suite.Contracts;

namespace IngestService.Scanning;

/// <summary>Where a document stands after its scan was applied: its status (null when it had left awaiting_scan meanwhile) and its job.</summary>
internal sealed record ScanSettlement(string? Status, string? EntryId = null);

/// <summary>
/// The step between storing a document and processing it (Req AV-1, AV-2), shared by the upload and the held-document
/// scanner: scan the file, then apply the verdict to the awaiting_scan row. Clean → queued and enqueued; infected →
/// rejected (<c>malware_detected</c>) and the file deleted; no verdict → still awaiting_scan, its reason recorded.
/// </summary>
internal sealed partial class ScanGate(MalwareScanner scanner, ScanCatalog scans, JobEnqueuer enqueuer, ILogger<ScanGate> logger)
{
    public ScannerUnavailablePolicy Policy => scanner.Policy;

    public TimeSpan RetryAfter => scanner.RetryAfter;

    public Task<ScanOutcome> ScanAsync(string path, CancellationToken cancellationToken) => scanner.ScanFileAsync(path, cancellationToken);

    /// <summary>Whether an upload with this outcome is refused (no verdict under policy Refuse).</summary>
    public bool Refuses(ScanOutcome outcome) =>
        outcome.Verdict == ScanVerdict.Unavailable && scanner.Policy == ScannerUnavailablePolicy.Refuse;

    /// <summary>
    /// Applies <paramref name="outcome"/> to document <paramref name="id"/> (awaiting_scan, its file at
    /// <paramref name="path"/>, its job going to the <paramref name="priority"/> stream). Not cancellable: the row is durable and its next state must follow.
    /// </summary>
    public async Task<ScanSettlement> SettleAsync(string id, string path, ScanOutcome outcome, string priority, string origin, string? traceParent = null)
    {
        switch (outcome.Verdict)
        {
            case ScanVerdict.Infected:
                var signature = outcome.Signature ?? "unnamed signature";
                if (!await scans.RejectAsync(id, signature, () => File.Delete(path), CancellationToken.None))
                {
                    return new ScanSettlement(null);
                }

                LogRejected(id, signature);
                return new ScanSettlement(DocumentStatus.Rejected);

            case ScanVerdict.Unavailable:
                await scans.NoteHeldAsync(id, outcome.Reason ?? "no verdict", CancellationToken.None);
                return new ScanSettlement(DocumentStatus.AwaitingScan);

            default:
                var result = outcome.Verdict == ScanVerdict.Clean ? ScanCatalog.Clean : ScanCatalog.NotScanned;
                if (!await scans.MarkScannedAsync(id, result, CancellationToken.None))
                {
                    return new ScanSettlement(null);
                }

                // Queued and durable: a failed enqueue is the sweeper's, like any upload's.
                return new ScanSettlement(DocumentStatus.Queued, await enqueuer.EnqueueAsync(id, priority, origin, traceParent));
        }
    }

    /// <summary>
    /// With scanning on, a retry of a failed or cancelled document never found clean goes back to awaiting_scan (true);
    /// false when the ordinary retry applies.
    /// </summary>
    public Task<bool> RetryThroughScanAsync(string id, CancellationToken cancellationToken) =>
        scanner.Enabled ? scans.RetryThroughScanAsync(id, cancellationToken) : Task.FromResult(false);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} rejected: malware detected ({Signature}); its file was deleted")]
    private partial void LogRejected(string documentId, string signature);
}
