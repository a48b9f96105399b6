using IngestService.Catalog;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Scanning;

/// <summary>
/// The catalog's side of the malware scan. A document is inserted as awaiting_scan and leaves that status only here:
/// to queued when clean, to rejected when infected. The row is the whole state, so a restart loses nothing: whatever is
/// still awaiting_scan is scanned by <see cref="HeldDocumentScanner"/>. Nothing else moves a document out of
/// awaiting_scan (the sweeper looks only at queued and processing documents, a claim only takes those).
/// </summary>
internal sealed class ScanCatalog(CatalogDb db, TimeProvider time)
{
    /// <summary>Recorded as the scan result when scanning is switched off.</summary>
    public const string NotScanned = "not_scanned";

    public const string Clean = "clean";

    public const string Infected = "infected";

    /// <summary>Clean (event <c>scanned</c>) or not scanned: awaiting_scan → queued. False when the document was no longer awaiting its scan (cancelled meanwhile).</summary>
    public Task<bool> MarkScannedAsync(string id, string result, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            var changed = await ExecuteAsync(connection, transaction, ScanSql.MarkScanned,
                [("@queued", DocumentStatus.Queued), ("@result", result), ("@now", now), ("@id", id), ("@awaiting", DocumentStatus.AwaitingScan)], ct);
            if (changed == 0)
            {
                return false;
            }

            // With scanning switched off nothing was scanned: the row says not_scanned, the history stays as it was.
            if (result == Clean)
            {
                await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Scanned, detail: "malware scan: clean", ct: ct);
            }

            return true;
        }, cancellationToken);

    /// <summary>
    /// Infected: awaiting_scan → rejected with <c>malware_detected</c>, its stages skipped; <paramref name="deleteFile"/>
    /// (the upload's removal) runs under the write lock before the commit, so a rejected document never keeps its file.
    /// False when it was no longer awaiting its scan.
    /// </summary>
    public Task<bool> RejectAsync(string id, string signature, Action deleteFile, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            var changed = await ExecuteAsync(connection, transaction, ScanSql.Reject,
            [
                ("@rejected", DocumentStatus.Rejected),
                ("@result", Infected),
                ("@now", now),
                ("@code", DeliveryErrorCodes.MalwareDetected),
                ("@message", $"The malware scanner found '{signature}' in the uploaded file; the file was deleted and the document will not be processed."),
                ("@id", id),
                ("@awaiting", DocumentStatus.AwaitingScan),
            ], ct);
            if (changed == 0)
            {
                return false;
            }

            await SkipUnfinishedStagesAsync(connection, transaction, id, "rejected: malware detected", now, ct);
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Rejected, detail: $"{DeliveryErrorCodes.MalwareDetected}: {signature}", ct: ct);
            deleteFile();
            return true;
        }, cancellationToken, repeatable: false);

    /// <summary>No verdict: keeps the reason as the document's last error and records it once in the history.</summary>
    public Task NoteHeldAsync(string id, string reason, CancellationToken cancellationToken) =>
        db.WriteAsync((connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            var text = "waiting for the malware scan: " + Clip(reason, 3000);
            return ChangeAndRecordAsync(connection, transaction, ScanSql.NoteHeld,
                [("@reason", text), ("@now", now), ("@id", id), ("@awaiting", DocumentStatus.AwaitingScan)],
                id, now, DocumentEventKinds.ScanHeld, text, ct);
        }, cancellationToken);

    /// <summary>Documents awaiting their scan, oldest first.</summary>
    public Task<IReadOnlyList<string>> FindHeldAsync(int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
            await QueryAsync(connection, null, ScanSql.SelectHeld, [("@status", DocumentStatus.AwaitingScan), ("@limit", limit)], CatalogRows.FirstString, ct),
            cancellationToken);

    public Task<long> CountHeldAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
            (long)(await ScalarAsync(connection, null, ScanSql.CountHeld, [("@status", DocumentStatus.AwaitingScan)], ct) ?? 0L),
            cancellationToken);

    /// <summary>
    /// A retry of a failed or cancelled document that was never found clean (cancelled while awaiting its scan, or
    /// from before scanning existed): it goes back to awaiting_scan, not to the queue, and is scanned first. False
    /// (nothing changed) for any other document: the ordinary retry applies.
    /// </summary>
    public Task<bool> RetryThroughScanAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var state = await QueryFirstAsync(connection, transaction, ScanSql.SelectScanState, [("@id", id)],
                reader => new ScanState(reader.GetString(0), CatalogRows.NullableString(reader, 1)), ct);
            if (state is null || state.Status is not (DocumentStatus.Failed or DocumentStatus.Cancelled) || state.Result == Clean)
            {
                return false;
            }

            var now = CatalogTime.Now(time);
            await ResetForRetryAsync(connection, transaction, id, DocumentStatus.AwaitingScan, now, ct);

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Retried, detail: $"was {state.Status}, never found clean: scanned before it is queued", ct: ct);
            return true;
        }, cancellationToken);

    /// <summary>A document's status and the result of its last scan (null: never scanned).</summary>
    private sealed record ScanState(string Status, string? Result);
}
