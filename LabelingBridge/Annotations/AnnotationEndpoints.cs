using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LabelingBridge.Annotations;
using LabelingBridge.Configuration;
using LabelingBridge.LabelStudio;
using LabelingBridge.Outbox;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Problems;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Annotations back from Label Studio: its webhook (shared-secret header, idempotent) and the read API.</summary>
public static partial class AnnotationEndpoints
{
    public const string WebhookPath = "/api/labeling/webhooks/label-studio";

    public static WebApplication MapWebhookEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(WebhookPath, ReceiveAsync)
            .WithTags("webhooks")
            .WithName("ReceiveLabelStudioWebhook")
            .WithSummary("Receive a Label Studio webhook (annotation created, updated or deleted)")
            .WithDescription("Called by Label Studio, which the bridge configures with the shared secret header itself; " +
                             "a replayed webhook changes nothing.")
            .WithHeaderParameter(BridgeOptions.DefaultWebhookSecretHeader,
                "The shared secret (Bridge:WebhookSecret), in this header unless Bridge:WebhookSecretHeader names another.")
            .AcceptsJsonObject("Label Studio's webhook payload: action, project, and the annotation and task (or the deleted annotations).")
            .Produces<WebhookReceipt>()
            .ProducesApiProblem(400, "invalid_webhook_payload")
            .ProducesApiProblem(401, "webhook_unauthorized")
            .ProducesApiProblem(503, "label_studio_disabled", "outbox_read_only")
            .ProducesApiProblem(507, "outbox_full");
        return app;
    }

    public static WebApplication MapAnnotationEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/documents/{id}/annotations", ListAsync)
            .WithTags("annotations")
            .WithName("ListDocumentAnnotations")
            .WithSummary("List a document's annotations from Label Studio, with regions in PDF points")
            .Produces<DocumentAnnotations>()
            .ProducesApiProblem(400, "invalid_document_id");
        return app;
    }

    private static async Task<IResult> ListAsync(string id, AnnotationStore store, ExportOutbox outbox, IOptions<BridgeOptions> bridge, CancellationToken cancellationToken)
    {
        if (!ExportEndpoints.SafeId().IsMatch(id))
        {
            return ApiProblem.Result(400, "invalid_document_id", "Invalid document id", "Document ids are 1 to 100 letters, digits, '-' or '_'.");
        }

        var annotations = await store.ListForDocumentAsync(id, cancellationToken);
        var pages = await outbox.PageSizesAsync(id, cancellationToken);
        var views = annotations.Select(a => AnnotationMapping.ToView(a, pages.TryGetValue(a.PageNo, out var size) ? size : null, bridge.Value.RenderScale)).ToList();
        return TypedResults.Ok(new DocumentAnnotations(id, views.Count, views));
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext context,
        IOptions<BridgeOptions> bridge,
        AnnotationStore store,
        BridgeMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        var options = bridge.Value;
        var logger = loggers.CreateLogger("LabelingBridge.Annotations.Webhook");
        if (string.IsNullOrEmpty(options.WebhookSecret))
        {
            return ApiProblem.Result(503, "label_studio_disabled", "Label Studio webhooks are not configured",
                "This bridge has no Bridge:WebhookSecret, so it accepts no Label Studio webhook. An operator can set Bridge__WebhookSecret.");
        }

        if (!SecretMatches(context.Request.Headers[options.WebhookSecretHeader].ToString(), options.WebhookSecret))
        {
            LogUnauthorized(logger, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return ApiProblem.Result(401, "webhook_unauthorized", "Webhook not authenticated",
                $"The request does not carry the shared secret in the {options.WebhookSecretHeader} header. The bridge configures its Label Studio " +
                "webhook with that header itself; a webhook set up by hand must send it with the value of Bridge:WebhookSecret.");
        }

        JsonObject payload;
        try
        {
            payload = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject
                      ?? throw new JsonException("the body is not a JSON object");
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(400, "invalid_webhook_payload", "Invalid webhook payload", "The body is not Label Studio's webhook JSON: " + ex.Message);
        }

        var action = payload["action"]?.ToString() ?? "";
        var projectId = payload["project"]?["id"] is JsonValue p && p.TryGetValue<int>(out var pid) ? pid : (int?)null;
        try
        {
            switch (action)
            {
                case "ANNOTATION_CREATED" or "ANNOTATION_UPDATED":
                    var annotation = AnnotationMapping.Parse<LsAnnotation>(payload["annotation"]);
                    var task = AnnotationMapping.Parse<LsTask>(payload["task"]);
                    var stored = annotation is null || task is null
                        ? null
                        : AnnotationMapping.ToStored(annotation, task, projectId, AnnotationSources.Webhook, time.GetUtcNow());
                    if (stored is null)
                    {
                        return TypedResults.Ok(new WebhookReceipt("ignored", Reason: "the task is not a page exported by this bridge"));
                    }

                    var outcome = await store.UpsertAsync(stored, context.RequestAborted);
                    if (outcome != UpsertOutcome.Unchanged)
                    {
                        metrics.AnnotationStored(AnnotationSources.Webhook);
                    }

                    LogStored(logger, action, stored.AnnotationId, stored.DocumentId, stored.PageNo, outcome.ToString());
                    return TypedResults.Ok(new WebhookReceipt(outcome.ToString().ToLowerInvariant(), AnnotationId: stored.AnnotationId));
                case "ANNOTATIONS_DELETED":
                    var ids = (payload["annotations"] as JsonArray ?? [])
                        .Select(a => a?["id"] is JsonValue v && v.TryGetValue<long>(out var id) ? id : 0).Where(id => id > 0).ToList();
                    var deleted = await store.DeleteAsync(ids, context.RequestAborted);
                    return TypedResults.Ok(new WebhookReceipt("deleted", Count: deleted));
                default:
                    return TypedResults.Ok(new WebhookReceipt("ignored", Reason: $"action {action} is not used by the bridge"));
            }
        }
        catch (JsonException ex)
        {
            return ApiProblem.Result(400, "invalid_webhook_payload", "Invalid webhook payload", "The annotation or task in the webhook is malformed: " + ex.Message);
        }
        catch (DatabaseReadOnlyException ex)
        {
            // Label Studio's webhook is not stored now; the reconciler picks the annotation up once writes work again.
            return OutboxProblems.ReadOnly(ex);
        }
    }

    /// <summary>Constant-time comparison of hashes, so neither content nor length leaks through timing.</summary>
    private static bool SecretMatches(string provided, string expected) =>
        provided.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(provided)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Label Studio webhook refused: missing or wrong shared secret (from {Remote})")]
    private static partial void LogUnauthorized(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Action}: annotation {AnnotationId} of document {DocumentId} page {PageNo} {Outcome}")]
    private static partial void LogStored(ILogger logger, string action, long annotationId, string documentId, int pageNo, string outcome);
}

/// <summary>GET /api/documents/{id}/annotations.</summary>
public sealed record DocumentAnnotations(string DocumentId, int Count, IReadOnlyList<AnnotationView> Annotations);

/// <summary>What the bridge did with a webhook: stored (created, updated, unchanged), deleted (with a count) or ignored (with the reason).</summary>
public sealed record WebhookReceipt(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? AnnotationId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Count = null);
