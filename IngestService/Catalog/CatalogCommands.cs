using Microsoft.Data.Sqlite;

namespace IngestService.Catalog;

/// <summary>The statements every part of the catalog shares: one command helper, one event writer, one retry reset.</summary>
internal static class CatalogCommands
{
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
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
        await using var insert = Command(connection, transaction, CatalogSql.InsertEvent);
        insert.Parameters.AddWithValue("@id", id);
        insert.Parameters.AddWithValue("@at", at);
        insert.Parameters.AddWithValue("@kind", kind);
        insert.Parameters.AddWithValue("@stage", (object?)stage ?? DBNull.Value);
        insert.Parameters.AddWithValue("@lease", (object?)lease ?? DBNull.Value);
        insert.Parameters.AddWithValue("@worker", (object?)worker ?? DBNull.Value);
        insert.Parameters.AddWithValue("@detail", (object?)(detail is null ? null : Clip(detail, 4000)) ?? DBNull.Value);
        await insert.ExecuteNonQueryAsync(ct);
        await Events.ProgressEventWriter.ForHistoryAsync(connection, transaction, id, at, kind, detail, ct);
    }

    /// <summary>
    /// Puts a failed or cancelled document back to <paramref name="status"/> for another run: the error cleared, the
    /// retry counted, and the stages without a checkpoint pending again.
    /// </summary>
    public static async Task ResetForRetryAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string status, string now, CancellationToken ct)
    {
        await using (var retry = Command(connection, transaction, CatalogSql.Retry))
        {
            retry.Parameters.AddWithValue("@status", status);
            retry.Parameters.AddWithValue("@now", now);
            retry.Parameters.AddWithValue("@id", id);
            await retry.ExecuteNonQueryAsync(ct);
        }

        await using var reset = Command(connection, transaction, CatalogSql.ResetStagesWithoutCheckpoint);
        reset.Parameters.AddWithValue("@status", Suite.Contracts.StageStatus.Pending);
        reset.Parameters.AddWithValue("@id", id);
        await reset.ExecuteNonQueryAsync(ct);
    }

    public static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
