using IngestService.Catalog;
using Suite.Contracts;

namespace IngestService.Admission;

/// <summary>How many documents wait for a worker, counted in the catalog (the source of truth, whatever Redis holds).</summary>
internal sealed class DocumentQueueDepth(CatalogDb db)
{
    // Served by ix_documents_status (status, ...): a covering index count, not a table scan.
    private const string CountWaiting = "SELECT COUNT(*) FROM documents WHERE status = @status";

    public Task<long> CountWaitingAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var count = connection.CreateCommand();
            count.CommandText = CountWaiting;
            count.Parameters.AddWithValue("@status", DocumentStatus.Queued);
            return (long)(await count.ExecuteScalarAsync(ct))!;
        }, cancellationToken);
}
