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
        db.ReadAsync<StreamHead?>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, EventSql.SelectHead);
            select.Parameters.AddWithValue("@id", id);
            await using var reader = await select.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? new StreamHead(reader.GetString(0), reader.GetInt64(1)) : null;
        }, cancellationToken);

    /// <summary>The document's events after <paramref name="after"/>, in order, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<StoredEvent>> DocumentAfterAsync(string id, long after, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, EventSql.SelectDocumentAfter);
            select.Parameters.AddWithValue("@id", id);
            select.Parameters.AddWithValue("@after", after);
            select.Parameters.AddWithValue("@limit", limit);
            return await ReadAllAsync(select, limit, ct);
        }, cancellationToken);

    /// <summary>Every event of the client's documents after global position <paramref name="after"/>, in order.</summary>
    public Task<IReadOnlyList<StoredEvent>> ClientAfterAsync(string client, long after, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, EventSql.SelectClientAfter);
            select.Parameters.AddWithValue("@client", client);
            select.Parameters.AddWithValue("@after", after);
            select.Parameters.AddWithValue("@limit", limit);
            return await ReadAllAsync(select, limit, ct);
        }, cancellationToken);

    /// <summary>The global position of the client's last event (0 when it has none).</summary>
    public Task<long> ClientHeadAsync(string client, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, EventSql.SelectClientHead);
            select.Parameters.AddWithValue("@client", client);
            return await select.ExecuteScalarAsync(ct) is long position ? position : 0L;
        }, cancellationToken);

    /// <summary>
    /// Records a page_progress event of a running stage, under the lease, unless the document's rate or count bound
    /// says no (<see cref="EventOptions.ProgressIntervalMs"/>, <see cref="EventOptions.MaxProgressEventsPerDocument"/>;
    /// a stage's last page passes the rate bound) or the stage is not running (a late report): Recorded says which.
    /// </summary>
    public Task<(LeaseWrite Outcome, bool Recorded)> RecordPageProgressAsync(
        string id, long lease, string stage, int page, int pages, string? detail, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            string status;
            long current;
            await using (var select = Command(connection, transaction, CatalogSql.SelectDocument))
            {
                select.Parameters.AddWithValue("@id", id);
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return (LeaseWrite.NotFound, false);
                }

                (status, current) = (reader.GetString(4), reader.GetInt64(9));
            }

            if (lease <= 0 || current != lease)
            {
                return (LeaseWrite.StaleLease, false);
            }

            if (DocumentStatus.IsTerminal(status))
            {
                return (LeaseWrite.Terminal, false);
            }

            if (await StageStatusAsync(connection, transaction, id, stage, ct) != StageStatus.Running)
            {
                return (LeaseWrite.Done, false);
            }

            var nowTime = time.GetUtcNow();
            var now = CatalogTime.ToText(nowTime);
            var before = page >= pages ? now : CatalogTime.ToText(nowTime.AddMilliseconds(-options.Value.ProgressIntervalMs));
            long seq;
            string? client;
            await using (var next = Command(connection, transaction, EventSql.NextProgressSeq))
            {
                next.Parameters.AddWithValue("@id", id);
                next.Parameters.AddWithValue("@now", now);
                next.Parameters.AddWithValue("@max", options.Value.MaxProgressEventsPerDocument);
                next.Parameters.AddWithValue("@before", before);
                await using var reader = await next.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return (LeaseWrite.Done, false);
                }

                (seq, client) = (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
            }

            await ProgressEventWriter.InsertAsync(
                connection, transaction, id, seq, client, now, ProgressEventTypes.PageProgress, stage, StageStatus.Running, detail, page, pages, ct);
            return (LeaseWrite.Done, true);
        }, cancellationToken);

    private static async Task<string?> StageStatusAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string stage, CancellationToken ct)
    {
        await using var select = Command(connection, transaction, EventSql.SelectStageStatus);
        select.Parameters.AddWithValue("@id", id);
        select.Parameters.AddWithValue("@name", stage);
        return await select.ExecuteScalarAsync(ct) as string;
    }

    private static async Task<IReadOnlyList<StoredEvent>> ReadAllAsync(SqliteCommand select, int limit, CancellationToken ct)
    {
        var events = new List<StoredEvent>(Math.Min(limit, 256));
        await using var reader = await select.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            events.Add(new StoredEvent(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8),
                reader.IsDBNull(9) ? null : reader.GetInt32(9)));
        }

        return events;
    }
}
