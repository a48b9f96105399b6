using IngestService.Catalog;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Lifecycle;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Webhooks;

/// <summary>
/// Start-up step, after the catalog's: copies the configured default subscriptions (name and URL) into the catalog's
/// <c>webhook_subscriptions</c>, and removes those no longer configured, so that the transaction that ends a document
/// writes one outbox row per subscription without reaching outside the database. Secrets stay in configuration and are
/// read at delivery time. Replicas are expected to share the configuration; the last one started wins.
/// </summary>
internal sealed partial class WebhookSubscriptions(CatalogDb db, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookSubscriptions> logger) : IStartupStep
{
    /// <summary>The subscription name of an upload's own callbackUrl (no configured subscription may take it).</summary>
    public const string Callback = "callback";

    public string Name => "syncing webhook subscriptions";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value.Subscriptions;
        await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, "DELETE FROM webhook_subscriptions;", [], ct);
            foreach (var (name, subscription) in configured)
            {
                await ExecuteAsync(connection, transaction,
                    "INSERT INTO webhook_subscriptions (name, url, updated_at) VALUES (@name, @url, @now);",
                    [("@name", name), ("@url", subscription.Url.Trim()), ("@now", now)], ct);
            }

            return 0;
        }, cancellationToken);
        LogSynced(configured.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook default subscriptions: {Count} configured")]
    private partial void LogSynced(int count);
}
