using System.Text.Json;
using System.Text.Json.Serialization;
using IngestService.Documents;

namespace IngestService.Webhooks;

/// <summary>The body of a notification: <c>{type, timestamp, data: {id, fileName, status, error?, links}}</c> (docs/webhooks.md).</summary>
internal sealed record WebhookNotification(string Type, string Timestamp, WebhookNotificationData Data)
{
    public const string Completed = "document.completed";
    public const string Failed = "document.failed";
    public const string Cancelled = "document.cancelled";
}

internal sealed record WebhookNotificationData(
    string Id,
    string FileName,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WebhookError? Error,
    DocumentLinks Links);

internal sealed record WebhookError(string Code, string Message);

internal static class WebhookJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
