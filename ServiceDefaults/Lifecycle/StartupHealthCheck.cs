using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Readiness: not ready until every start-up step is done. The description says which step start-up is at and why its
/// last attempt failed ("starting: checking storage (attempt 3 failed: ...)"), or where it stopped
/// ("start-up failed at opening the catalog: ..."); the data lists every step.
/// </summary>
internal sealed class StartupHealthCheck(StartupGate gate) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var steps = gate.Steps();
        return Task.FromResult(gate.IsReady
            ? HealthCheckResult.Healthy("ready", steps)
            : new HealthCheckResult(context.Registration.FailureStatus, gate.Describe(), data: steps));
    }
}
