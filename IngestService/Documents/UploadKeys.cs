using IngestService.Catalog;
using Microsoft.Extensions.Options;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Documents;

/// <summary>What an Idempotency-Key already stands for.</summary>
internal sealed record UploadKeyRecord(string DocumentId, string Sha256);

/// <summary>
/// Idempotency keys of uploads, per client (the name the gateway passes in X-Suite-Client). A key is reserved for a new
/// document id before the document is stored, so of two concurrent uploads with the same key exactly one creates a
/// document; the other finds the reservation. Keys are kept for Ingest:IdempotencyKeyHours, then forgotten.
/// </summary>
internal sealed class UploadKeys(CatalogDb db, TimeProvider time, IOptions<IngestOptions> options)
{
    // Nothing is held in memory: the keys are rows of upload_keys, bounded in time (Ingest:IdempotencyKeyHours, purged
    // on every reservation) and so in number by the upload rate limit over that time.

    /// <summary>Reserves <paramref name="key"/> for <paramref name="documentId"/>; returns null, or what the key already names.</summary>
    public Task<UploadKeyRecord?> ReserveAsync(string client, string key, string documentId, string sha256, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = time.GetUtcNow();
            await ExecuteAsync(connection, transaction, "DELETE FROM upload_keys WHERE created_at < @expired", [("@expired", CatalogTime.ToText(now - Retention))], ct);

            // A reservation whose upload died before storing its document (a crash between the two writes) is freed
            // after a while instead of answering "in progress" until it expires.
            await ExecuteAsync(connection, transaction,
                "DELETE FROM upload_keys WHERE client = @client AND key = @key AND created_at < @stale " +
                "AND NOT EXISTS (SELECT 1 FROM documents WHERE documents.id = upload_keys.document_id)",
                [("@client", client), ("@key", key), ("@stale", CatalogTime.ToText(now - AbandonedAfter))], ct);

            if (await QueryFirstAsync(connection, transaction, "SELECT document_id, sha256 FROM upload_keys WHERE client = @client AND key = @key",
                    [("@client", client), ("@key", key)], reader => new UploadKeyRecord(reader.GetString(0), reader.GetString(1)), ct) is { } existing)
            {
                return existing;
            }

            await ExecuteAsync(connection, transaction,
                "INSERT INTO upload_keys (client, key, document_id, sha256, created_at) VALUES (@client, @key, @document_id, @sha256, @now)",
                [("@client", client), ("@key", key), ("@document_id", documentId), ("@sha256", sha256), ("@now", CatalogTime.ToText(now))], ct);
            return null;
        }, cancellationToken);

    /// <summary>Frees a reservation whose upload did not create its document.</summary>
    public Task ReleaseAsync(string client, string key, string documentId) =>
        db.WriteAsync((connection, transaction, ct) =>
            ExecuteAsync(connection, transaction,
                "DELETE FROM upload_keys WHERE client = @client AND key = @key AND document_id = @document_id",
                [("@client", client), ("@key", key), ("@document_id", documentId)], ct),
            CancellationToken.None);

    /// <summary>The oldest other document with the same content, if any (served by ix_documents_sha256).</summary>
    public Task<string?> FindSameContentAsync(string sha256, string exceptId, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
            await ScalarAsync(connection, null,
                "SELECT id FROM documents WHERE sha256 = @sha256 AND id <> @id ORDER BY created_at, id LIMIT 1",
                [("@sha256", sha256), ("@id", exceptId)], ct) as string,
            cancellationToken);

    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    private TimeSpan Retention => TimeSpan.FromHours(options.Value.IdempotencyKeyHours);

}
