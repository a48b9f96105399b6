using System.Text.Json.Serialization;

namespace IngestService.Webhooks;

/// <summary>
/// One outbox row as the dispatcher works on it: the notification (its <c>webhook-id</c>, type and fixed body), where it
/// goes, the secret of an upload's callback (a default subscription's comes from configuration), and its budget so far.
/// </summary>
internal sealed record WebhookDelivery(
    string Id, string DocumentId, string Subscription, string Url, string Type, string Payload, int Attempts, DateTimeOffset CreatedAt, string? CallbackSecret);

/// <summary>A delivery as the API shows it (GET /api/documents/{id}/webhooks, GET /api/webhooks/dead-letters); the URL without its query's values.</summary>
internal sealed record WebhookDeliveryView(
    string Id,
    string DocumentId,
    string Subscription,
    string Url,
    string Type,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextAttemptAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? LastAttemptAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LastStatusCode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? DeliveredAt);

/// <summary>A list of deliveries.</summary>
internal sealed record WebhookDeliveryList(IReadOnlyList<WebhookDeliveryView> Items);
