using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace LabelingBridge.Outbox;

public static class ExportStates
{
    public const string Pending = "pending";
    public const string Delivering = "delivering";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

public static class ExportTriggers
{
    public const string Api = "api";
    public const string Auto = "auto";
}

/// <summary>One export of one document to Label Studio, as the outbox stores it.</summary>
public sealed record ExportRecord(
    string Id,
    string DocumentId,
    string State,
    string Trigger,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset NextAttemptAt,
    string? LastErrorCode,
    string? LastErrorMessage,
    DateTimeOffset? LastErrorAt,
    DateTimeOffset? DeliveredAt,
    int? ProjectId,
    int? TasksCreated,
    int? TasksExisting,
    string? TraceParent = null);

/// <summary>The export outbox: written before the API answers 202, drained by the dispatcher.</summary>
public sealed class ExportOutbox(OutboxDb db, TimeProvider time)
{
    private const string Columns = "id, document_id, state, trigger, attempts, created_at, updated_at, next_attempt_at, last_error_code, " +
                                   "last_error_message, last_error_at, delivered_at, project_id, tasks_created, tasks_existing, trace_parent";

    /// <summary>
    /// Stores a new pending export with the W3C trace context of the request that asked for it (so its delivery
    /// continues that trace, Req OBS-2), unless the document already has one pending or delivering: then that one is
    /// returned, so repeated clicks do not pile up deliveries.
    /// </summary>
    public Task<(ExportRecord Export, bool Created)> EnqueueAsync(string documentId, string trigger, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using (var find = Command(connection, transaction,
                $"SELECT {Columns} FROM exports WHERE document_id = @doc AND state IN ('pending', 'delivering') ORDER BY created_at LIMIT 1"))
            {
                find.Parameters.AddWithValue("@doc", documentId);
                await using var reader = await find.ExecuteReaderAsync(ct);
                if (await reader.ReadAsync(ct))
                {
                    return (Read(reader), false);
                }
            }

            var id = await InsertAsync(connection, transaction, documentId, trigger, OutboxTime.ToText(time.GetUtcNow()), ct);
            return ((await FindAsync(connection, transaction, id, ct))!, true);
        }, cancellationToken);

    private static async Task<string> InsertAsync(SqliteConnection connection, SqliteTransaction transaction, string documentId, string trigger, string now, CancellationToken ct)
    {
        var id = "exp_" + Guid.NewGuid().ToString("N");
        await using var insert = Command(connection, transaction,
            "INSERT INTO exports (id, document_id, state, trigger, attempts, created_at, updated_at, next_attempt_at, trace_parent) " +
            "VALUES (@id, @doc, 'pending', @trigger, 0, @now, @now, @now, @trace)");
        insert.Parameters.AddWithValue("@id", id);
        insert.Parameters.AddWithValue("@doc", documentId);
        insert.Parameters.AddWithValue("@trigger", trigger);
        insert.Parameters.AddWithValue("@now", now);
        insert.Parameters.AddWithValue("@trace", (object?)Activity.Current?.Id ?? DBNull.Value);
        await insert.ExecuteNonQueryAsync(ct);
        return id;
    }

    public Task<ExportRecord?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => FindAsync(connection, null, id, ct), cancellationToken);

    public Task<IReadOnlyList<ExportRecord>> ListForDocumentAsync(string documentId, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<ExportRecord>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, $"SELECT {Columns} FROM exports WHERE document_id = @doc ORDER BY created_at DESC LIMIT @limit");
            select.Parameters.AddWithValue("@doc", documentId);
            select.Parameters.AddWithValue("@limit", limit);
            return await ReadAllAsync(select, ct);
        }, cancellationToken);

    /// <summary>Moves up to <paramref name="limit"/> due pending exports to delivering and returns them.</summary>
    public Task<IReadOnlyList<ExportRecord>> ClaimDueAsync(int limit, CancellationToken cancellationToken) =>
        db.WriteAsync<IReadOnlyList<ExportRecord>>(async (connection, transaction, ct) =>
        {
            var now = OutboxTime.ToText(time.GetUtcNow());
            await using var claim = Command(connection, transaction,
                "UPDATE exports SET state = 'delivering', updated_at = @now WHERE id IN (" +
                "SELECT id FROM exports WHERE state = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @limit) " +
                $"RETURNING {Columns}");
            claim.Parameters.AddWithValue("@now", now);
            claim.Parameters.AddWithValue("@limit", limit);
            return await ReadAllAsync(claim, ct);
        }, cancellationToken);

    /// <summary>After a crash, exports left delivering are pending again (delivery is idempotent).</summary>
    public Task<int> RecoverInterruptedAsync(CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var update = Command(connection, transaction, "UPDATE exports SET state = 'pending', updated_at = @now WHERE state = 'delivering'");
            update.Parameters.AddWithValue("@now", OutboxTime.ToText(time.GetUtcNow()));
            return await update.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    public Task MarkDeliveredAsync(string id, int projectId, int created, int existing, bool countAttempt, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var update = Command(connection, transaction,
                "UPDATE exports SET state = 'delivered', attempts = attempts + @count, updated_at = @now, delivered_at = @now, " +
                "project_id = @project, tasks_created = @created, tasks_existing = @existing WHERE id = @id");
            update.Parameters.AddWithValue("@count", countAttempt ? 1 : 0);
            update.Parameters.AddWithValue("@now", OutboxTime.ToText(time.GetUtcNow()));
            update.Parameters.AddWithValue("@project", projectId);
            update.Parameters.AddWithValue("@created", created);
            update.Parameters.AddWithValue("@existing", existing);
            update.Parameters.AddWithValue("@id", id);
            return await update.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>Back to pending, due at <paramref name="nextAttemptAt"/>, with the error that held it up.</summary>
    public Task RescheduleAsync(string id, DateTimeOffset nextAttemptAt, string errorCode, string errorMessage, bool countAttempt, CancellationToken cancellationToken) =>
        SetStateAsync(id, ExportStates.Pending, nextAttemptAt, errorCode, errorMessage, countAttempt, cancellationToken);

    public Task FailAsync(string id, string errorCode, string errorMessage, bool countAttempt, CancellationToken cancellationToken) =>
        SetStateAsync(id, ExportStates.Failed, time.GetUtcNow(), errorCode, errorMessage, countAttempt, cancellationToken);

    /// <summary>Pending exports: how many, and since when the oldest waits.</summary>
    public Task<(int Count, DateTimeOffset? Oldest)> PendingAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, "SELECT COUNT(*), MIN(created_at) FROM exports WHERE state IN ('pending', 'delivering')");
            await using var reader = await select.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return (reader.GetInt32(0), reader.IsDBNull(1) ? (DateTimeOffset?)null : OutboxTime.Parse(reader.GetString(1)));
        }, cancellationToken);

    /// <summary>
    /// For the auto-export poller: the first time a completed document is seen, and only if it has no export yet,
    /// stores a pending export, in the same transaction as the "seen" mark. Null when nothing was added.
    /// </summary>
    public Task<ExportRecord?> EnqueueAutoExportAsync(string documentId, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = OutboxTime.ToText(time.GetUtcNow());
            await using (var seen = Command(connection, transaction, "INSERT OR IGNORE INTO auto_export_seen (document_id, seen_at) VALUES (@doc, @now)"))
            {
                seen.Parameters.AddWithValue("@doc", documentId);
                seen.Parameters.AddWithValue("@now", now);
                if (await seen.ExecuteNonQueryAsync(ct) == 0)
                {
                    return null;
                }
            }

            await using (var exists = Command(connection, transaction, "SELECT EXISTS (SELECT 1 FROM exports WHERE document_id = @doc)"))
            {
                exists.Parameters.AddWithValue("@doc", documentId);
                if ((long)(await exists.ExecuteScalarAsync(ct))! != 0)
                {
                    return null;
                }
            }

            var id = await InsertAsync(connection, transaction, documentId, ExportTriggers.Auto, now, ct);
            return await FindAsync(connection, transaction, id, ct);
        }, cancellationToken);

    /// <summary>Remembers the page sizes (PDF points) of an exported document, to turn annotations back into points.</summary>
    public Task SavePageSizesAsync(string documentId, IReadOnlyList<(int PageNo, double Width, double Height)> pages, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var (pageNo, width, height) in pages)
            {
                await using var upsert = Command(connection, transaction,
                    "INSERT INTO document_pages (document_id, page_no, width_pt, height_pt) VALUES (@doc, @page, @w, @h) " +
                    "ON CONFLICT (document_id, page_no) DO UPDATE SET width_pt = excluded.width_pt, height_pt = excluded.height_pt");
                upsert.Parameters.AddWithValue("@doc", documentId);
                upsert.Parameters.AddWithValue("@page", pageNo);
                upsert.Parameters.AddWithValue("@w", width);
                upsert.Parameters.AddWithValue("@h", height);
                await upsert.ExecuteNonQueryAsync(ct);
            }

            return pages.Count;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<int, (double Width, double Height)>> PageSizesAsync(string documentId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyDictionary<int, (double Width, double Height)>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, "SELECT page_no, width_pt, height_pt FROM document_pages WHERE document_id = @doc");
            select.Parameters.AddWithValue("@doc", documentId);
            var sizes = new Dictionary<int, (double, double)>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                sizes[reader.GetInt32(0)] = (reader.GetDouble(1), reader.GetDouble(2));
            }

            return sizes;
        }, cancellationToken);

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, "SELECT value FROM settings WHERE key = @key");
            select.Parameters.AddWithValue("@key", key);
            return await select.ExecuteScalarAsync(ct) as string;
        }, cancellationToken);

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var upsert = Command(connection, transaction,
                "INSERT INTO settings (key, value, updated_at) VALUES (@key, @value, @now) " +
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
            upsert.Parameters.AddWithValue("@key", key);
            upsert.Parameters.AddWithValue("@value", value);
            upsert.Parameters.AddWithValue("@now", OutboxTime.ToText(time.GetUtcNow()));
            return await upsert.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    private Task SetStateAsync(string id, string state, DateTimeOffset nextAttemptAt, string errorCode, string errorMessage, bool countAttempt, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = OutboxTime.ToText(time.GetUtcNow());
            await using var update = Command(connection, transaction,
                "UPDATE exports SET state = @state, attempts = attempts + @count, updated_at = @now, next_attempt_at = @next, " +
                "last_error_code = @code, last_error_message = @message, last_error_at = @now WHERE id = @id");
            update.Parameters.AddWithValue("@state", state);
            update.Parameters.AddWithValue("@count", countAttempt ? 1 : 0);
            update.Parameters.AddWithValue("@now", now);
            update.Parameters.AddWithValue("@next", OutboxTime.ToText(nextAttemptAt));
            update.Parameters.AddWithValue("@code", errorCode);
            update.Parameters.AddWithValue("@message", errorMessage);
            update.Parameters.AddWithValue("@id", id);
            return await update.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    private static async Task<ExportRecord?> FindAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, CancellationToken ct)
    {
        await using var select = Command(connection, transaction, $"SELECT {Columns} FROM exports WHERE id = @id");
        select.Parameters.AddWithValue("@id", id);
        var rows = await ReadAllAsync(select, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    private static async Task<IReadOnlyList<ExportRecord>> ReadAllAsync(SqliteCommand command, CancellationToken ct)
    {
        var rows = new List<ExportRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(Read(reader));
        }

        return rows;
    }

    private static ExportRecord Read(SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetInt32(4),
        OutboxTime.Parse(r.GetString(5)),
        OutboxTime.Parse(r.GetString(6)),
        OutboxTime.Parse(r.GetString(7)),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        r.IsDBNull(10) ? null : OutboxTime.Parse(r.GetString(10)),
        r.IsDBNull(11) ? null : OutboxTime.Parse(r.GetString(11)),
        r.IsDBNull(12) ? null : r.GetInt32(12),
        r.IsDBNull(13) ? null : r.GetInt32(13),
        r.IsDBNull(14) ? null : r.GetInt32(14),
        r.IsDBNull(15) ? null : r.GetString(15));

    internal static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
