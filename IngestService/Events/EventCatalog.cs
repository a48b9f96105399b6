using IngestService.Catalog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Events;

/// <summary>One progress event as stored: its global position (the per-client feed's resume id) and its fields.</summary>
internal sealed record StoredEvent(
    long Position, string DocumentId, long Seq, string At, string Type, string? Stage, string? Status, string? Detail, int? Page, int? Pages)
{
    public bool IsTerminal => ProgressEventTypes.IsTerminal(Type);
}

/// <summary>Where a document's stream stands: its status and the last sequence number given.</summary>
internal sealed record StreamHead(string Status, long LastSeq)
{
    public bool IsTerminal => DocumentStatus.IsTerminal(Status);
}

/// <summary>The progress events in the catalog: what the streams replay (the catalog is their only source), and page progress.</summary>
internal sealed class EventCatalog(CatalogDb db, TimeProvider time, IOptions<EventOptions> options)
{
    /// <summary>The document's status and last sequence number, read together; null when it does not exist.</summary>
    public Task<StreamHead?> HeadAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) =>
            QueryFirstAsync(connection, null, EventSql.SelectHead, [("@id", id)], reader => new StreamHead(reader.GetString(0), reader.GetInt64(1)), ct),
            cancellationToken);

    /// <summary>The document's events after <paramref name="after"/>, in order, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<StoredEvent>> DocumentAfterAsync(string id, long after, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async (connection, ct) =>
            await QueryAsync(connection, null, EventSql.SelectDocumentAfter, [("@id", id), ("@after", after), ("@limit", limit)], ReadStoredEvent, ct),
            cancellationToken);

    /// <summary>Every event of the client's documents after global position <paramref name="after"/>, in order.</summary>
    public Task<IReadOnlyList<StoredEvent>> ClientAfterAsync(string client, long after, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<StoredEvent>>(async (connection, ct) =>
            await QueryAsync(connection, null, EventSql.SelectClientAfter, [("@client", client), ("@after", after), ("@limit", limit)], ReadStoredEvent, ct),
            cancellationToken);

    /// <summary>The global position of the client's last event (0 when it has none).</summary>
    public Task<long> ClientHeadAsync(string client, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
            await ScalarAsync(connection, null, EventSql.SelectClientHead, [("@client", client)], ct) is long position ? position : 0L,
            cancellationToken);

    /// <summary>
    /// Records a page_progress event of a running stage, under the lease, unless the document's rate or count bound
    /// says no (<see cref="EventOptions.ProgressIntervalMs"/>, <see cref="EventOptions.MaxProgressEventsPerDocument"/>;
    /// a stage's last page passes the rate bound) or the stage is not running (a late report): Recorded says which.
    /// </summary>
    public Task<(LeaseWrite Outcome, bool Recorded)> RecordPageProgressAsync(
        string id, long lease, string stage, int page, int pages, string? detail, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (await CatalogRows.FindDocumentAsync(connection, transaction, id, ct) is not { } document)
            {
                return (LeaseWrite.NotFound, false);
            }

            // Not the lease fence: a stale progress report is dropped without a history entry.
            if (lease <= 0 || document.LeaseToken != lease)
            {
                return (LeaseWrite.StaleLease, false);
            }

            if (DocumentStatus.IsTerminal(document.Status))
            {
                return (LeaseWrite.Terminal, false);
            }

            var stageStatus = await ScalarAsync(connection, transaction, EventSql.SelectStageStatus, [("@id", id), ("@name", stage)], ct) as string;
            if (stageStatus != StageStatus.Running)
            {
                return (LeaseWrite.Done, false);
            }

            var nowTime = time.GetUtcNow();
            var now = CatalogTime.ToText(nowTime);
            var before = page >= pages ? now : CatalogTime.ToText(nowTime.AddMilliseconds(-options.Value.ProgressIntervalMs));
            var next = await QueryFirstAsync(connection, transaction, EventSql.NextProgressSeq,
                [("@id", id), ("@now", now), ("@max", options.Value.MaxProgressEventsPerDocument), ("@before", before)],
                reader => new NextSeq(reader.GetInt64(0), CatalogRows.NullableString(reader, 1)), ct);
            if (next is null)
            {
                return (LeaseWrite.Done, false);
            }

            await ProgressEventWriter.InsertAsync(
                connection, transaction, id, next.Seq, next.Client, now, ProgressEventTypes.PageProgress, stage, StageStatus.Running, detail, page, pages, ct);
            return (LeaseWrite.Done, true);
        }, cancellationToken);

    private static StoredEvent ReadStoredEvent(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetInt64(2),
        reader.GetString(3),
        reader.GetString(4),
        CatalogRows.NullableString(reader, 5),
        CatalogRows.NullableString(reader, 6),
        CatalogRows.NullableString(reader, 7),
        CatalogRows.NullableInt32(reader, 8),
        CatalogRows.NullableInt32(reader, 9));

    /// <summary>The sequence number a page_progress event gets, and the document's client; no row when a bound says no.</summary>
    private sealed record NextSeq(long Seq, string? Client);
}
