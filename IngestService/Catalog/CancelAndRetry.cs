using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// A client's say over a document: cancel it before it finishes, or queue a failed or cancelled one again. Neither
/// needs a lease; a worker holding the document learns of a cancel at its next renewal or write.
/// </summary>
internal sealed class CancelAndRetry(CatalogDb db, TimeProvider time)
{
    /// <summary>
    /// Cancels a document awaiting its scan, queued or processing at once: it ends cancelled, its unfinished stages skipped. The worker
    /// holding it learns it from its next renewal or write (409 document_terminal) and stops. Null when unknown.
    /// </summary>
    public Task<(LeaseWrite Outcome, DocumentRecord Document)?> CancelAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync<(LeaseWrite, DocumentRecord)?>(async (connection, transaction, ct) =>
        {
            var document = await CatalogRows.FindDocumentAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            switch (document.Status)
            {
                case DocumentStatus.Cancelled:
                    return (LeaseWrite.AlreadyDone, document);
                case DocumentStatus.Completed or DocumentStatus.Failed or DocumentStatus.Rejected:
                    return (LeaseWrite.Terminal, document);
            }

            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, CatalogSql.Cancel,
            [
                ("@status", DocumentStatus.Cancelled),
                ("@code", "cancelled"),
                ("@message", "The document was cancelled by a DELETE request before it finished."),
                ("@now", now),
                ("@id", id),
            ], ct);
            await SkipUnfinishedStagesAsync(connection, transaction, id, "cancelled", now, ct);

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Cancelled, null, document.LeaseToken, document.LeaseOwner,
                $"cancelled while {document.Status}", ct);
            return (LeaseWrite.Done, (await CatalogRows.FindDocumentAsync(connection, transaction, id, ct))!);
        }, cancellationToken);

    /// <summary>
    /// Queues a failed or cancelled document again (Done); its checkpoints stay, so processing resumes from the last
    /// valid one. Conflict when it is completed or still queued/processing. Null when unknown.
    /// </summary>
    public Task<(LeaseWrite Outcome, DocumentRecord Document)?> RetryAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync<(LeaseWrite, DocumentRecord)?>(async (connection, transaction, ct) =>
        {
            var document = await CatalogRows.FindDocumentAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            if (document.Status is not (DocumentStatus.Failed or DocumentStatus.Cancelled))
            {
                return (LeaseWrite.Conflict, document);
            }

            var now = CatalogTime.Now(time);
            await ResetForRetryAsync(connection, transaction, id, DocumentStatus.Queued, now, ct);

            var checkpointed = await CatalogCheckpoints.CheckpointedStagesAsync(connection, transaction, id, document.DocumentOptions, ct);
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Retried, null, null, null,
                $"was {document.Status} ({document.ErrorCode}: {Clip(document.ErrorMessage ?? "", 500)}); " +
                (checkpointed.Count == 0 ? "no checkpoints" : "resumes after " + checkpointed[^1]), ct);
            return (LeaseWrite.Done, (await CatalogRows.FindDocumentAsync(connection, transaction, id, ct))!);
        }, cancellationToken);
}
