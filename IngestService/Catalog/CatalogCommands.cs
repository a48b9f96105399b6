using Microsoft.Data.Sqlite;
using Suite.Contracts;

namespace IngestService.Catalog;

/// <summary>
/// The plumbing every part of the catalog shares: building a command with its parameters and running it, and the
/// few statements more than one part makes (history entries, retry reset, skipped stages, activity touch).
/// </summary>
internal static class CatalogCommands
{
    /// <summary>A command in <paramref name="transaction"/> with its parameters bound (a null value binds SQL NULL).</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params IEnumerable<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Runs a statement; returns the number of rows it changed.</summary>
    public static async Task<int> ExecuteAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The first column of the first row, or null.</summary>
    public static async Task<object?> ScalarAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string sql, IEnumerable<(string Name, object? Value)> parameters, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(ct);
    }

    /// <summary>Every row, each read with <paramref name="map"/>.</summary>
    public static async Task<List<T>> QueryAsync<T>(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        string sql,
        IEnumerable<(string Name, object? Value)> parameters,
        Func<SqliteDataReader, T> map,
        CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The first row read with <paramref name="map"/>; the default (null) when there is none.</summary>
    public static async Task<T?> QueryFirstAsync<T>(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        string sql,
        IEnumerable<(string Name, object? Value)> parameters,
        Func<SqliteDataReader, T> map,
        CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? map(reader) : default;
    }

    /// <summary>
    /// A status change guarded by its WHERE clause: when it changed the document, the change goes into the history
    /// (<paramref name="kind"/>, <paramref name="detail"/>) in the same transaction. False when nothing matched.
    /// </summary>
    public static async Task<bool> ChangeAndRecordAsync(
        SqliteConnection connection,
        SqliteTransaction transaction,
        string sql,
        IEnumerable<(string Name, object? Value)> parameters,
        string id,
        string at,
        string kind,
        string detail,
        CancellationToken ct)
    {
        if (await ExecuteAsync(connection, transaction, sql, parameters, ct) == 0)
        {
            return false;
        }

        await InsertEventAsync(connection, transaction, id, at, kind, detail: detail, ct: ct);
        return true;
    }

    /// <summary>
    /// Appends to the document's history (its detail clipped to 4000 characters), and the public progress event of the
    /// entry's kind when it has one (<see cref="Events.ProgressEventWriter"/>), in the same transaction.
    /// </summary>
    public static async Task InsertEventAsync(
        SqliteConnection connection,
        SqliteTransaction transaction,
        string id,
        string at,
        string kind,
        string? stage = null,
        long? lease = null,
        string? worker = null,
        string? detail = null,
        CancellationToken ct = default)
    {
        await ExecuteAsync(connection, transaction, CatalogSql.InsertEvent,
            [("@id", id), ("@at", at), ("@kind", kind), ("@stage", stage), ("@lease", lease), ("@worker", worker), ("@detail", detail is null ? null : Clip(detail, 4000))],
            ct);
        await Events.ProgressEventWriter.ForHistoryAsync(connection, transaction, id, at, kind, detail, ct);
    }

    /// <summary>
    /// Puts a failed or cancelled document back to <paramref name="status"/> for another run: the error cleared, the
    /// retry counted, and the stages without a checkpoint pending again.
    /// </summary>
    public static async Task ResetForRetryAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string status, string now, CancellationToken ct)
    {
        await ExecuteAsync(connection, transaction, CatalogSql.Retry, [("@status", status), ("@now", now), ("@id", id)], ct);
        await ExecuteAsync(connection, transaction, CatalogSql.ResetStagesWithoutCheckpoint, [("@status", StageStatus.Pending), ("@id", id)], ct);
    }

    /// <summary>A document that ends before it is processed (cancelled, rejected): its pending and running stages are skipped.</summary>
    public static Task SkipUnfinishedStagesAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string detail, string now, CancellationToken ct) =>
        ExecuteAsync(connection, transaction, CatalogSql.SkipUnfinishedStages,
            [("@skipped", StageStatus.Skipped), ("@detail", detail), ("@now", now), ("@id", id), ("@pending", StageStatus.Pending), ("@running", StageStatus.Running)],
            ct);

    /// <summary>A sign of life of the worker holding the document (the sweeper leaves active documents alone).</summary>
    public static Task TouchAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string now, CancellationToken ct) =>
        ExecuteAsync(connection, transaction, CatalogSql.Touch, [("@now", now), ("@id", id)], ct);

    public static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
