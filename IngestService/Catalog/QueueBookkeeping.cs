using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// The catalog's record of each document's job in Redis: when it was enqueued (or put back by the sweeper) and under
/// which stream entry, and the sweeper's searches for documents whose job may be missing.
/// </summary>
internal sealed class QueueBookkeeping(CatalogDb db, TimeProvider time)
{
    /// <summary>Records the job of a queued document (a document cancelled meanwhile is left as it is).</summary>
    public Task MarkEnqueuedAsync(string id, string entryId, string origin, CancellationToken cancellationToken) =>
        db.WriteAsync((connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            return ChangeAndRecordAsync(connection, transaction, CatalogSql.MarkEnqueued,
                [("@at", now), ("@entry", entryId), ("@id", id), ("@status", DocumentStatus.Queued)],
                id, now, DocumentEventKinds.Enqueued, $"stream entry {entryId} ({origin})", ct);
        }, cancellationToken);

    /// <summary>Records a job the sweeper added again because Redis no longer had one for the document.</summary>
    public Task MarkRequeuedAsync(string id, string entryId, string reason, CancellationToken cancellationToken) =>
        db.WriteAsync((connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            return ChangeAndRecordAsync(connection, transaction, CatalogSql.MarkRequeued,
                [("@at", now), ("@entry", entryId), ("@id", id), ("@queued", DocumentStatus.Queued), ("@processing", DocumentStatus.Processing)],
                id, now, DocumentEventKinds.Requeued, $"stream entry {entryId}: {reason}", ct);
        }, cancellationToken);

    /// <summary>
    /// Queued documents created before <paramref name="createdBefore"/> whose enqueue never succeeded, oldest first.
    /// (Newer ones may still have their upload's XADD in flight.)
    /// </summary>
    public Task<IReadOnlyList<string>> FindNeverEnqueuedAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
            await QueryAsync(connection, null, CatalogSql.SelectNeverEnqueued,
                [("@status", DocumentStatus.Queued), ("@before", CatalogTime.ToText(createdBefore)), ("@limit", limit)], CatalogRows.FirstString, ct),
            cancellationToken);

    /// <summary>
    /// Unfinished (queued or processing) documents, enqueued at some point, with no sign of life (claim, heartbeat,
    /// report, enqueue) since <paramref name="before"/>: the sweeper checks that Redis still holds a job for each.
    /// </summary>
    public Task<IReadOnlyList<string>> FindInactiveAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            // One query per status, so each is served by the (status, active_at) index.
            var ids = new List<string>();
            foreach (var status in new[] { DocumentStatus.Queued, DocumentStatus.Processing })
            {
                ids.AddRange(await QueryAsync(connection, null, CatalogSql.SelectInactive,
                    [("@status", status), ("@before", CatalogTime.ToText(before)), ("@limit", limit)], CatalogRows.FirstString, ct));
            }

            return ids;
        }, cancellationToken);
}
