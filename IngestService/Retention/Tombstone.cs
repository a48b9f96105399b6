using IngestService.Catalog;
using Microsoft.Data.Sqlite;

namespace IngestService.Retention;

/// <summary>
/// What is left of a removed document: its id and name, why it went (<see cref="Expired"/> or <see cref="Deleted"/>),
/// the status it had, and whether its files are gone yet (<see cref="Deleting"/> until they are).
/// </summary>
internal sealed record Tombstone(
    string Id, string FileName, string Reason, string State, string Status, string DeletedAtRaw, string? FinishedAtRaw, long? BytesReclaimed)
{
    public const string Expired = "expired";
    public const string Deleted = "deleted";
    public const string Deleting = "deleting";

    public DateTimeOffset DeletedAt => CatalogTime.Parse(DeletedAtRaw);

    public static Tombstone Read(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetInt64(7));
}
