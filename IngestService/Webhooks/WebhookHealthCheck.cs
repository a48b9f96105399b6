using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Webhooks;

/// <summary>
/// The outbox in the readiness details: pending deliveries (as the dispatcher last counted them) and the destinations
/// whose breaker is open. An open breaker is Degraded, not Unhealthy: a receiver's outage is outside the suite, uploads
/// and results go on, and its notifications wait in the outbox.
/// </summary>
internal sealed class WebhookHealthCheck(WebhookMetrics metrics, WebhookPipelines pipelines) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var open = pipelines.OpenDestinations();
        var data = new Dictionary<string, object>
        {
            ["pending"] = metrics.Pending,
            ["openDestinations"] = open,
        };
        return Task.FromResult(open.Count == 0
            ? HealthCheckResult.Healthy($"{metrics.Pending} notifications pending", data)
            : HealthCheckResult.Degraded(
                $"{open.Count} webhook destinations are failing and paused by their breaker ({string.Join(", ", open.Take(5))}); their notifications wait in the outbox",
                data: data));
    }
}
