using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// How catalog rows become records: one mapping per query shape, in the column order of its SELECT in
/// <see cref="CatalogSql"/>, and the document lookup nearly every operation starts with.
/// </summary>
internal static class CatalogRows
{
    /// <summary>The document row, read in <paramref name="transaction"/> when given (a write re-reads under its lock).</summary>
    public static Task<DocumentRecord?> FindDocumentAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, CancellationToken ct) =>
        QueryFirstAsync(connection, transaction, CatalogSql.SelectDocument, [("@id", id)], Document, ct);

    /// <summary>A row of <see cref="CatalogSql.DocumentColumns"/>.</summary>
    public static DocumentRecord Document(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3),
        reader.GetString(4),
        reader.GetString(5),
        reader.GetString(6),
        NullableString(reader, 7),
        NullableString(reader, 8),
        reader.GetInt64(9),
        NullableString(reader, 10),
        NullableString(reader, 11),
        NullableString(reader, 12),
        NullableString(reader, 13),
        NullableString(reader, 14),
        NullableString(reader, 15),
        reader.GetInt32(16),
        reader.GetInt32(17),
        reader.GetInt64(18),
        NullableString(reader, 19),
        NullableString(reader, 20),
        reader.GetString(21),
        NullableString(reader, 22),
        reader.GetString(23),
        NullableString(reader, 24),
        reader.IsDBNull(25) ? null : reader.GetInt64(25),
        NullableString(reader, 26));

    /// <summary>A row of <see cref="CatalogSql.SelectStages"/>.</summary>
    public static StageRecord Stage(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        CatalogTime.ParseNullable(NullableString(reader, 2)),
        CatalogTime.ParseNullable(NullableString(reader, 3)),
        NullableString(reader, 4));

    /// <summary>A row of <see cref="CatalogSql.SelectEvents"/>.</summary>
    public static DocumentEvent Event(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        CatalogTime.Parse(reader.GetString(1)),
        reader.GetString(2),
        NullableString(reader, 3),
        NullableInt64(reader, 4),
        NullableString(reader, 5),
        NullableString(reader, 6));

    /// <summary>A row of <see cref="CatalogSql.SelectCheckpoint"/>.</summary>
    public static CheckpointRecord Checkpoint(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), CatalogTime.Parse(reader.GetString(3)), reader.GetInt32(4), NullableString(reader, 5));

    /// <summary>The first column as text: ids, stage names.</summary>
    public static string FirstString(SqliteDataReader reader) => reader.GetString(0);

    public static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? NullableInt64(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static int? NullableInt32(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);
}
