using LabelingBridge.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Resilience;

namespace LabelingBridge.LabelStudio;

/// <summary>
/// Readiness of the Label Studio integration from what the bridge already knows (no request is sent): Label Studio
/// is optional, so an open breaker, a Retry-After wait or rejected credentials make the bridge Degraded, never
/// unready; exports keep being accepted (HC-3, CB-4).
/// </summary>
internal sealed class LabelStudioHealthCheck(
    IOptions<LabelStudioOptions> options, CircuitBreakerStates breakers, CredentialState credentials, RetryAfterGate gate) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Label Studio export is switched off (LabelStudio:Enabled=false)",
                new Dictionary<string, object> { ["enabled"] = false }));
        }

        var snapshots = breakers.Snapshot().Where(s => LabelStudioClientExtensions.IsLabelStudio(s.Dependency)).ToList();
        var worst = snapshots.OrderByDescending(s => s.State).FirstOrDefault();
        var credential = credentials.Current;
        var data = new Dictionary<string, object>
        {
            ["enabled"] = true,
            ["breaker"] = worst?.StateName ?? "closed",
            ["breakers"] = snapshots.ToDictionary(s => s.Dependency, s => (object)new { state = s.StateName, since = s.Since, openUntil = s.OpenUntil }),
            ["credentials"] = credential.StatusName,
        };
        if (gate.Remaining() is { } wait)
        {
            data["retryAfterSeconds"] = Math.Ceiling(wait.TotalSeconds);
        }

        if (credential.Status == CredentialStatus.Rejected)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"Label Studio rejects the credentials (HTTP {credential.HttpStatus}); set LabelStudio:ApiKey. Exports are accepted and held.", data: data));
        }

        if (worst is { State: not BreakerState.Closed })
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"Label Studio circuit breaker is {worst.StateName}; exports are accepted and queued, delivery resumes when it answers.", data: data));
        }

        return Task.FromResult(data.ContainsKey("retryAfterSeconds")
            ? HealthCheckResult.Degraded("Label Studio asked the bridge to wait (Retry-After).", data: data)
            : HealthCheckResult.Healthy("Label Studio reachable as far as the bridge knows", data));
    }
}
