using IngestService.Catalog;
using Microsoft.Data.Sqlite;
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
            var now = Now();
            await using var update = Command(connection, transaction, ScanSql.MarkScanned);
            update.Parameters.AddWithValue("@queued", DocumentStatus.Queued);
            update.Parameters.AddWithValue("@result", result);
            update.Parameters.AddWithValue("@now", now);
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@awaiting", DocumentStatus.AwaitingScan);
            if (await update.ExecuteNonQueryAsync(ct) == 0)
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
            var now = Now();
            await using (var update = Command(connection, transaction, ScanSql.Reject))
            {
                update.Parameters.AddWithValue("@rejected", DocumentStatus.Rejected);
                update.Parameters.AddWithValue("@result", Infected);
                update.Parameters.AddWithValue("@now", now);
                update.Parameters.AddWithValue("@code", DeliveryErrorCodes.MalwareDetected);
                update.Parameters.AddWithValue("@message", $"The malware scanner found '{signature}' in the uploaded file; the file was deleted and the document will not be processed.");
                update.Parameters.AddWithValue("@id", id);
                update.Parameters.AddWithValue("@awaiting", DocumentStatus.AwaitingScan);
                if (await update.ExecuteNonQueryAsync(ct) == 0)
                {
                    return false;
                }
            }

            await using (var skip = Command(connection, transaction, CatalogSql.SkipUnfinishedStages))
            {
                skip.Parameters.AddWithValue("@skipped", StageStatus.Skipped);
                skip.Parameters.AddWithValue("@detail", "rejected: malware detected");
                skip.Parameters.AddWithValue("@now", now);
                skip.Parameters.AddWithValue("@id", id);
                skip.Parameters.AddWithValue("@pending", StageStatus.Pending);
                skip.Parameters.AddWithValue("@running", StageStatus.Running);
                await skip.ExecuteNonQueryAsync(ct);
            }

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Rejected, detail: $"{DeliveryErrorCodes.MalwareDetected}: {signature}", ct: ct);
            deleteFile();
            return true;
        }, cancellationToken, repeatable: false);

    /// <summary>No verdict: keeps the reason as the document's last error and records it once in the history.</summary>
    public Task NoteHeldAsync(string id, string reason, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = Now();
            var text = "waiting for the malware scan: " + (reason.Length > 3000 ? reason[..3000] : reason);
            await using var update = Command(connection, transaction, ScanSql.NoteHeld);
            update.Parameters.AddWithValue("@reason", text);
            update.Parameters.AddWithValue("@now", now);
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@awaiting", DocumentStatus.AwaitingScan);
            if (await update.ExecuteNonQueryAsync(ct) > 0)
            {
                await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.ScanHeld, detail: text, ct: ct);
            }

            return 0;
        }, cancellationToken);

    /// <summary>Documents awaiting their scan, oldest first.</summary>
    public Task<IReadOnlyList<string>> FindHeldAsync(int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, ScanSql.SelectHeld);
            select.Parameters.AddWithValue("@status", DocumentStatus.AwaitingScan);
            select.Parameters.AddWithValue("@limit", limit);
            var ids = new List<string>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    public Task<long> CountHeldAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var count = Command(connection, null, ScanSql.CountHeld);
            count.Parameters.AddWithValue("@status", DocumentStatus.AwaitingScan);
            return (long)(await count.ExecuteScalarAsync(ct) ?? 0L);
        }, cancellationToken);

    /// <summary>
    /// A retry of a failed or cancelled document that was never found clean (cancelled while awaiting its scan, or
    /// from before scanning existed): it goes back to awaiting_scan, not to the queue, and is scanned first. False
    /// (nothing changed) for any other document: the ordinary retry applies.
    /// </summary>
    public Task<bool> RetryThroughScanAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            string status;
            string? result;
            await using (var select = Command(connection, transaction, ScanSql.SelectScanState))
            {
                select.Parameters.AddWithValue("@id", id);
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return false;
                }

                status = reader.GetString(0);
                result = reader.IsDBNull(1) ? null : reader.GetString(1);
            }

            if (status is not (DocumentStatus.Failed or DocumentStatus.Cancelled) || result == Clean)
            {
                return false;
            }

            var now = Now();
            await ResetForRetryAsync(connection, transaction, id, DocumentStatus.AwaitingScan, now, ct);

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Retried, detail: $"was {status}, never found clean: scanned before it is queued", ct: ct);
            return true;
        }, cancellationToken);



    private string Now() => CatalogTime.ToText(time.GetUtcNow());
}
