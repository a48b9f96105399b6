using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// A document's history as the catalog keeps it: every claim, refusal, checkpoint and ending, for the workers and
/// for diagnosis. Entries are appended by the writes themselves (<see cref="CatalogCommands.InsertEventAsync"/>).
/// </summary>
internal sealed class DocumentHistory(CatalogDb db)
{
    /// <summary>The document's history, oldest first; null when the document does not exist.</summary>
    public Task<IReadOnlyList<DocumentEvent>?> EventsAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<DocumentEvent>?>(async (connection, ct) =>
            await CatalogRows.FindDocumentAsync(connection, null, id, ct) is null
                ? null
                : await QueryAsync(connection, null, CatalogSql.SelectEvents, [("@id", id)], CatalogRows.Event, ct),
            cancellationToken);
}
