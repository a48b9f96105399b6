using Suite.ServiceDefaults.Problems;

namespace IngestService.Webhooks;

/// <summary>The problems of completion webhooks: each with a stable code (docs/errors.md) and what to do about it.</summary>
internal static class WebhookProblems
{
    /// <summary>An upload's callbackUrl that is malformed or leads where this service must not send (the URL sources' SSRF rules).</summary>
    public static IResult InvalidCallbackUrl(string why, bool retryable = false) => ApiProblem.Result(400, "invalid_callback_url", "Callback URL not accepted",
        $"The callbackUrl cannot be used: {why}. Give an absolute http:// or https:// URL, without user name or password, on a public " +
        "internet host (or one the operator allows in Sources:AllowedHosts); nothing was stored.",
        retryable: retryable,
        extensions: new Dictionary<string, object?> { ["field"] = CallbackUrlCheck.Field, ["reason"] = why });

    public static IResult DeliveryNotFound(string id) => ApiProblem.Result(404, "webhook_delivery_not_found", "Webhook delivery not found",
        $"No webhook delivery has the id '{(id.Length <= 80 ? id : id[..80] + "...")}'. Use the id listed by GET /api/webhooks/dead-letters or GET /api/documents/{{id}}/webhooks.");

    public static IResult NotDeadLettered(string id, string status) => ApiProblem.Result(409, "webhook_not_dead_lettered", "Webhook delivery is not dead-lettered",
        $"Webhook delivery {id} is {status}; only a dead-lettered delivery can be sent again. A pending one is still being retried.",
        extensions: new Dictionary<string, object?> { ["status"] = status });
}
