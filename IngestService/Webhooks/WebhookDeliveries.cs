using IngestService.Catalog;
using IngestService.Sources;
using Microsoft.Data.Sqlite;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Webhooks;

/// <summary>
/// The outbox in the catalog: due deliveries taken (claimed for <c>Webhooks:ClaimSeconds</c>, so a dispatcher that dies
/// mid-delivery leaves them to be taken again), outcomes recorded, and the reads and the redelivery of the API.
/// </summary>
internal sealed class WebhookDeliveries(CatalogDb db, TimeProvider time)
{
    private const string ViewColumns =
        "id, document_id, subscription, url, type, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at";

    public Task<DocumentCallback?> FindCallbackAsync(string documentId, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => QueryFirstAsync(connection, null,
            "SELECT url, secret FROM document_callbacks WHERE document_id = @id;", [("@id", documentId)],
            r => new DocumentCallback(r.GetString(0), r.GetString(1)), ct), cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="limit"/> due pending deliveries, oldest due first, pushing their next attempt
    /// <paramref name="claim"/> ahead. A read first: an idle poll writes nothing (no write per poll, which would also
    /// probe a catalog in read-only mode).
    /// </summary>
    public async Task<List<WebhookDelivery>> TakeDueAsync(int limit, TimeSpan claim, CancellationToken cancellationToken)
    {
        var any = await db.ReadAsync((connection, ct) => ScalarAsync(connection, null,
            "SELECT 1 FROM webhook_deliveries WHERE status = @pending AND next_attempt_at <= @now LIMIT 1;",
            [("@pending", WebhookOutbox.Pending), ("@now", CatalogTime.Now(time))], ct), cancellationToken);
        return any is null ? [] : await ClaimDueAsync(limit, claim, cancellationToken);
    }

    private Task<List<WebhookDelivery>> ClaimDueAsync(int limit, TimeSpan claim, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = time.GetUtcNow();
            var due = await QueryAsync(connection, transaction,
                "SELECT d.id, d.document_id, d.subscription, d.url, d.type, d.payload, d.attempts, d.created_at, d.secret " +
                "FROM webhook_deliveries d " +
                "WHERE d.status = @pending AND d.next_attempt_at <= @now ORDER BY d.next_attempt_at LIMIT @limit;",
                [("@pending", WebhookOutbox.Pending), ("@now", CatalogTime.ToText(now)), ("@limit", limit)],
                r => new WebhookDelivery(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6),
                    CatalogTime.Parse(r.GetString(7)), r.IsDBNull(8) ? null : r.GetString(8)),
                ct);
            foreach (var delivery in due)
            {
                await ExecuteAsync(connection, transaction, "UPDATE webhook_deliveries SET next_attempt_at = @until WHERE id = @id;",
                    [("@until", CatalogTime.ToText(now + claim)), ("@id", delivery.Id)], ct);
            }

            return due;
        }, cancellationToken);

    /// <summary>
    /// Records a round: <paramref name="attempts"/> more requests made; delivered, dead-lettered, or pending again from
    /// <paramref name="nextAttempt"/>. Only a pending row changes (a redelivery request meanwhile is not overwritten).
    /// </summary>
    public Task RecordAsync(
        string id, int attempts, string status, DateTimeOffset? nextAttempt, int? statusCode, string? error, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            return await ExecuteAsync(connection, transaction,
                "UPDATE webhook_deliveries SET status = @status, attempts = attempts + @attempts, " +
                "next_attempt_at = COALESCE(@next, next_attempt_at), last_attempt_at = CASE WHEN @attempts > 0 THEN @now ELSE last_attempt_at END, " +
                "last_status = COALESCE(@code, last_status), last_error = @error, " +
                "delivered_at = CASE WHEN @status = @delivered THEN @now ELSE delivered_at END " +
                "WHERE id = @id AND status = @pending;",
                [
                    ("@status", status), ("@attempts", attempts), ("@next", nextAttempt is { } at ? CatalogTime.ToText(at) : null), ("@now", now),
                    ("@code", statusCode), ("@error", error is null ? null : Clip(error, 2000)), ("@delivered", WebhookOutbox.Delivered),
                    ("@pending", WebhookOutbox.Pending), ("@id", id),
                ], ct);
        }, cancellationToken);

    public Task<List<WebhookDeliveryView>> ForDocumentAsync(string documentId, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => QueryAsync(connection, null,
            $"SELECT {ViewColumns} FROM webhook_deliveries WHERE document_id = @id ORDER BY created_at, id;", [("@id", documentId)], View, ct),
            cancellationToken);

    /// <summary>Dead-lettered deliveries, most recently failed first.</summary>
    public Task<List<WebhookDeliveryView>> DeadLettersAsync(int limit, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => QueryAsync(connection, null,
            $"SELECT {ViewColumns} FROM webhook_deliveries WHERE status = @dead ORDER BY last_attempt_at DESC, id LIMIT @limit;",
            [("@dead", WebhookOutbox.DeadLettered), ("@limit", limit)], View, ct),
            cancellationToken);

    public Task<WebhookDeliveryView?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => QueryFirstAsync(connection, null,
            $"SELECT {ViewColumns} FROM webhook_deliveries WHERE id = @id;", [("@id", id)], View, ct), cancellationToken);

    /// <summary>A dead letter pending again with a fresh budget (attempts and age start over); false when it is not dead-lettered.</summary>
    public Task<bool> RedeliverAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            return await ExecuteAsync(connection, transaction,
                "UPDATE webhook_deliveries SET status = @pending, attempts = 0, created_at = @now, next_attempt_at = @now " +
                "WHERE id = @id AND status = @dead;",
                [("@pending", WebhookOutbox.Pending), ("@now", now), ("@id", id), ("@dead", WebhookOutbox.DeadLettered)], ct) == 1;
        }, cancellationToken);

    public Task<long> CountPendingAsync(CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) => (long)(await ScalarAsync(connection, null,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = @pending;", [("@pending", WebhookOutbox.Pending)], ct))!, cancellationToken);

    private static WebhookDeliveryView View(SqliteDataReader r)
    {
        var status = r.GetString(5);
        return new WebhookDeliveryView(
            r.GetString(0),
            r.GetString(1),
            r.GetString(2),
            Uri.TryCreate(r.GetString(3), UriKind.Absolute, out var url) ? SourceUrls.ForMessage(url) : "(invalid)",
            r.GetString(4),
            status,
            r.GetInt32(6),
            CatalogTime.Parse(r.GetString(7)),
            status == WebhookOutbox.Pending ? CatalogTime.Parse(r.GetString(8)) : null,
            r.IsDBNull(9) ? null : CatalogTime.Parse(r.GetString(9)),
            r.IsDBNull(10) ? null : r.GetInt32(10),
            r.IsDBNull(11) ? null : r.GetString(11),
            r.IsDBNull(12) ? null : CatalogTime.Parse(r.GetString(12)));
    }
}
