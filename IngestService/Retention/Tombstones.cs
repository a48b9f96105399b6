using IngestService.Catalog;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Retention;

/// <summary>Looks up the tombstone of a removed document (one primary-key read).</summary>
internal sealed class Tombstones(CatalogDb db)
{
    public Task<Tombstone?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => QueryFirstAsync(connection, null, RetentionSql.SelectTombstone, [("@id", id)], Tombstone.Read, ct), cancellationToken);
}
