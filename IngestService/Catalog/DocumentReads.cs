using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>Read-only views of documents: one document, one with its stages, a page of the list, its upload's trace context.</summary>
internal sealed class DocumentReads(CatalogDb db)
{
    public Task<DocumentRecord?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => CatalogRows.FindDocumentAsync(connection, null, id, ct), cancellationToken);

    /// <summary>The document and its stages, in pipeline order (stages with no row yet are pending).</summary>
    public Task<(DocumentRecord Document, IReadOnlyList<StageRecord> Stages)?> FindWithStagesAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<(DocumentRecord, IReadOnlyList<StageRecord>)?>(async (connection, ct) =>
        {
            var document = await CatalogRows.FindDocumentAsync(connection, null, id, ct);
            if (document is null)
            {
                return null;
            }

            var rows = (await QueryAsync(connection, null, CatalogSql.SelectStages, [("@id", id)], CatalogRows.Stage, ct))
                .ToDictionary(stage => stage.Name, StringComparer.Ordinal);
            var ordered = PipelineStageNames.All
                .Select(name => rows.GetValueOrDefault(name) ?? new StageRecord(name, StageStatus.Pending, null, null, null))
                .ToList();
            return (document, ordered);
        }, cancellationToken);

    /// <summary>Newest first; <paramref name="after"/> is the (created_at, id) of the last item of the previous page.</summary>
    public Task<IReadOnlyList<DocumentRecord>> ListAsync(int limit, (string CreatedAt, string Id)? after, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<DocumentRecord>>(async (connection, ct) => after is { } cursor
            ? await QueryAsync(connection, null, CatalogSql.ListAfterCursor,
                [("@limit", limit), ("@created_at", cursor.CreatedAt), ("@id", cursor.Id)], CatalogRows.Document, ct)
            : await QueryAsync(connection, null, CatalogSql.ListFirstPage, [("@limit", limit)], CatalogRows.Document, ct),
            cancellationToken);

    /// <summary>The W3C traceparent the document was uploaded under, if recorded.</summary>
    public Task<string?> TraceParentAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) => await ScalarAsync(connection, null, CatalogSql.SelectTraceParent, [("@id", id)], ct) as string, cancellationToken);
}
