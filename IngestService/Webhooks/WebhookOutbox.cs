using System.Security.Cryptography;
using System.Text.Json;
using IngestService.Catalog;
using IngestService.Documents;
using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Webhooks;

/// <summary>
/// Writes a document's end notification into the outbox inside the transaction that ends it (completed, failed,
/// cancelled), one row per subscription: the upload's callbackUrl and each default subscription. Written with the
/// state change or not at all, so a crash after the commit still delivers it and a rolled-back end sends nothing.
/// The body is fixed here: every attempt sends the same bytes under the same <c>webhook-id</c>.
/// </summary>
internal static class WebhookOutbox
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string DeadLettered = "dead_lettered";

    public static async Task EnqueueAsync(SqliteConnection connection, SqliteTransaction transaction, string documentId, string at, CancellationToken ct)
    {
        var document = await QueryFirstAsync(connection, transaction,
            "SELECT file_name, status, error_code, error_message FROM documents WHERE id = @id;",
            [("@id", documentId)],
            r => (FileName: r.GetString(0), Status: r.GetString(1), Code: r.IsDBNull(2) ? null : r.GetString(2), Message: r.IsDBNull(3) ? null : r.GetString(3)),
            ct);
        if (document.FileName is null || TypeOf(document.Status) is not { } type)
        {
            return;
        }

        var targets = await QueryAsync(connection, transaction,
            "SELECT @callback, url, secret FROM document_callbacks WHERE document_id = @id " +
            "UNION ALL SELECT name, url, NULL FROM webhook_subscriptions ORDER BY 1;",
            [("@id", documentId), ("@callback", WebhookSubscriptions.Callback)],
            r => (Subscription: r.GetString(0), Url: r.GetString(1), Secret: r.IsDBNull(2) ? null : r.GetString(2)),
            ct);
        if (targets.Count == 0)
        {
            return;
        }

        var payload = JsonSerializer.Serialize(new WebhookNotification(type, at, new WebhookNotificationData(
            documentId,
            document.FileName,
            document.Status,
            document.Code is null || document.Status == DocumentStatus.Completed ? null : new WebhookError(document.Code, Clip(document.Message ?? "", 1000)),
            DocumentLinks.For(documentId))), WebhookJson.Options);
        // A callback's secret is copied into its row: the notification is signed with it even after the document is deleted.
        foreach (var (subscription, url, secret) in targets)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO webhook_deliveries (id, document_id, subscription, url, type, payload, status, created_at, next_attempt_at, secret) " +
                "VALUES (@id, @document, @subscription, @url, @type, @payload, @status, @at, @at, @secret);",
                [
                    ("@id", NewId()), ("@document", documentId), ("@subscription", subscription), ("@url", url), ("@type", type),
                    ("@payload", payload), ("@status", Pending), ("@at", at), ("@secret", secret),
                ], ct);
        }
    }

    /// <summary>The notification type of a document status, or null when the status is no end a webhook reports.</summary>
    public static string? TypeOf(string status) => status switch
    {
        DocumentStatus.Completed => WebhookNotification.Completed,
        DocumentStatus.Failed => WebhookNotification.Failed,
        DocumentStatus.Cancelled => WebhookNotification.Cancelled,
        _ => null,
    };

    /// <summary>The <c>webhook-id</c>: unique per notification and subscription, the same on every attempt.</summary>
    private static string NewId() => "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
