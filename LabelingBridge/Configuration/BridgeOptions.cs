using Suite.ServiceDefaults.Data;

namespace LabelingBridge.Configuration;

/// <summary>The bridge's own settings (section <c>Bridge</c>). Validated at start-up.</summary>
public sealed class BridgeOptions
{
    public const string Section = "Bridge";

    public const string DefaultWebhookSecretHeader = "X-Suite-Webhook-Secret";

    /// <summary>Public base URL of the suite (the gateway): page images are linked as {this}/api/documents/{id}/pages/{n}/image.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Where Label Studio posts webhooks; default {PublicBaseUrl}/api/labeling/webhooks/label-studio.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>Shared secret Label Studio sends in <see cref="WebhookSecretHeader"/> on every webhook. Never logged.</summary>
    public string? WebhookSecret { get; set; }

    public string WebhookSecretHeader { get; set; } = DefaultWebhookSecretHeader;

    /// <summary>Export every newly completed document without being asked (polls ingest's document list). Off by default.</summary>
    public bool AutoExport { get; set; }

    public double AutoExportPollSeconds { get; set; } = 15;

    public int AutoExportPageSize { get; set; } = 50;

    public int AutoExportMaxPages { get; set; } = 4;

    /// <summary>How often the project's tasks are polled for annotations whose webhook was lost.</summary>
    public double ReconcileIntervalSeconds { get; set; } = 60;

    /// <summary>Pixels per PDF point of the page images (2.0 = 144 dpi); gives original_width/height of predictions.</summary>
    public double RenderScale { get; set; } = 2.0;

    public Uri ResolvedWebhookUrl => WebhookUrl ?? new Uri(PublicBaseUrl!.ToString().TrimEnd('/') + "/api/labeling/webhooks/label-studio");
}

/// <summary>
/// The export outbox (section <c>Outbox</c>). Its database settings (BusyTimeoutMilliseconds, CommandTimeoutSeconds,
/// MaxConnections, BusyRetryAttempts, WriteBreaker) are the shared ones of <see cref="SqliteDatabaseOptions"/>.
/// </summary>
public sealed class OutboxOptions : SqliteDatabaseOptions
{
    public const string Section = "Outbox";

    public string DatabasePath { get; set; } = Path.Combine(".data", "labeling-bridge", "outbox.db");

    /// <summary>How often the dispatcher looks for due exports when nothing wakes it.</summary>
    public double PollIntervalSeconds { get; set; } = 1;

    /// <summary>Exports delivered at once.</summary>
    public int DeliveryConcurrency { get; set; } = 2;

    /// <summary>Delivery attempts that reached Label Studio and failed before an export is failed for good.</summary>
    public int MaxAttempts { get; set; } = 100;

    public double RetryBaseDelaySeconds { get; set; } = 1;

    public double RetryMaxDelaySeconds { get; set; } = 300;
}

/// <summary>Where the bridge reads documents (section <c>Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>IngestService's base address, resolved by service discovery (services__ingest__http__0).</summary>
    public Uri BaseUrl { get; set; } = new("http://ingest");
}
