using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Suite.ServiceDefaults.Health;

/// <summary>
/// Not ready until the host has started, and not ready again once shutdown begins, so that
/// orchestrators and load balancers stop sending work before in-flight requests drain.
/// </summary>
public sealed class LifecycleHealthCheck : IHealthCheck
{
    private volatile int _state; // 0 starting, 1 started, 2 stopping

    public LifecycleHealthCheck(IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStarted.Register(() => _state = Math.Max(_state, 1));
        lifetime.ApplicationStopping.Register(() => _state = 2);
    }

    public bool IsStopping => _state == 2;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_state switch
        {
            1 => HealthCheckResult.Healthy("started"),
            2 => HealthCheckResult.Unhealthy("shutting down"),
            _ => HealthCheckResult.Unhealthy("starting"),
        });
}
