using Microsoft.Extensions.Diagnostics.HealthChecks;
using Suite.ServiceDefaults.Data;

namespace LabelingBridge.Outbox;

/// <summary>
/// Readiness: Unhealthy once the integrity route has found the outbox damaged (the start-up check already stops the
/// bridge on a damaged file). The bridge then leaves rotation until the outbox is restored and the bridge restarted.
/// </summary>
internal sealed class OutboxIntegrityHealthCheck([FromKeyedServices(OutboxDb.DatabaseName)] SqliteBackups outbox) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(outbox.Damage is { } damage
            ? new HealthCheckResult(context.Registration.FailureStatus,
                $"the outbox database {outbox.DatabasePath} is damaged ({damage}); stop the bridge and restore it (docs/runbooks/restore.md)")
            : HealthCheckResult.Healthy("no damage found"));
}
