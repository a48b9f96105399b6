using System.Text.Json;
using IngestService.Catalog;

namespace IngestService.Storage;

/// <summary>The catalog question the orphan sweeper asks: which of these document ids have no row.</summary>
internal sealed class OrphanQueries(CatalogDb db)
{
    private const string UnknownIds = """
        SELECT value FROM json_each(@ids)
        WHERE value NOT IN (SELECT id FROM documents);
        """;

    public Task<IReadOnlyList<string>> UnknownDocumentIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            await using var command = CatalogCommands.Command(connection, null, UnknownIds);
            command.Parameters.AddWithValue("@ids", JsonSerializer.Serialize(ids));
            var unknown = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                unknown.Add(reader.GetString(0));
            }

            return unknown;
        }, cancellationToken);
}
