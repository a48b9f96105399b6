using System.Globalization;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Documents;
using IngestService.Webhooks;
using Microsoft.AspNetCore.Mvc;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The webhook API: a document's deliveries (<c>GET /api/documents/{id}/webhooks</c>), the dead letters
/// (<c>GET /api/webhooks/dead-letters</c>) and sending a dead letter again (<c>POST /api/webhooks/deliveries/{id}/redeliver</c>).
/// </summary>
internal static class WebhookEndpoints
{
    public const string Prefix = "/api/webhooks";

    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    public static WebApplication MapWebhookEndpoints(this WebApplication app)
    {
        app.MapGroup(DocumentRoutes.Prefix).AddEndpointFilter<StorageFailureFilter>().WithTags("webhooks").ProducesStorageProblems()
            .MapGet("{id}/webhooks", ForDocumentAsync)
            .WithName("ListDocumentWebhooks")
            .WithSummary("List a document's completion webhook deliveries")
            .WithDescription("One delivery per subscription (the upload's callbackUrl, each default subscription) and end of the document: " +
                             "pending (being retried; nextAttemptAt), delivered or dead_lettered, with its attempts and last error. docs/webhooks.md.")
            .Produces<WebhookDeliveryList>()
            .ProducesApiProblem(404, "document_not_found");

        var group = app.MapGroup(Prefix).AddEndpointFilter<StorageFailureFilter>().WithTags("webhooks").ProducesStorageProblems();
        group.MapGet("dead-letters", DeadLettersAsync)
            .WithName("ListWebhookDeadLetters")
            .WithSummary("List dead-lettered webhook deliveries, most recent first")
            .WithDescription("Deliveries given up on: the receiver's answer was final (a 4xx other than 408 and 429, a redirect) or the budget " +
                             "(Webhooks:MaxAttempts, Webhooks:MaxAgeSeconds) was spent. `limit` 1 to 200, default 50.")
            .Produces<WebhookDeliveryList>()
            .ProducesApiProblem(400, "invalid_limit");
        group.MapPost("deliveries/{deliveryId}/redeliver", RedeliverAsync)
            .WithName("RedeliverWebhook")
            .WithSummary("Send a dead-lettered webhook again")
            .WithDescription("The delivery is pending again with a fresh budget, under the same webhook-id (receivers deduplicate by it).")
            .Produces<WebhookDeliveryView>(StatusCodes.Status202Accepted)
            .ProducesApiProblem(404, "webhook_delivery_not_found")
            .ProducesApiProblem(409, "webhook_not_dead_lettered");
        return app;
    }

    private static async Task<IResult> ForDocumentAsync(
        string id, [FromServices] DocumentReads reads, [FromServices] WebhookDeliveries deliveries, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is null)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        return TypedResults.Ok(new WebhookDeliveryList(await deliveries.ForDocumentAsync(id, cancellationToken)));
    }

    private static async Task<IResult> DeadLettersAsync(string? limit, [FromServices] WebhookDeliveries deliveries, CancellationToken cancellationToken)
    {
        var count = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxLimit))
        {
            return IngestProblems.InvalidLimit(limit, MaxLimit);
        }

        return TypedResults.Ok(new WebhookDeliveryList(await deliveries.DeadLettersAsync(count, cancellationToken)));
    }

    private static async Task<IResult> RedeliverAsync(string deliveryId, [FromServices] WebhookDeliveries deliveries, CancellationToken cancellationToken)
    {
        if (await deliveries.FindAsync(deliveryId, cancellationToken) is not { } found)
        {
            return WebhookProblems.DeliveryNotFound(deliveryId);
        }

        if (!await deliveries.RedeliverAsync(deliveryId, cancellationToken))
        {
            return WebhookProblems.NotDeadLettered(deliveryId, found.Status);
        }

        return TypedResults.Accepted($"/api/documents/{found.DocumentId}/webhooks", await deliveries.FindAsync(deliveryId, cancellationToken));
    }
}
