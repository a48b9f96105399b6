using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Suite.ServiceDefaults.Lifecycle;

namespace Suite.ServiceDefaults.Health;

/// <summary>
/// Not ready until the host has started, and not ready again once shutdown begins, so that
/// orchestrators and load balancers stop sending work before in-flight requests drain.
/// </summary>
public sealed class LifecycleHealthCheck : IHealthCheck
{
    private readonly ShutdownState _shutdown;
    private volatile bool _started;

    public LifecycleHealthCheck(IHostApplicationLifetime lifetime, ShutdownState shutdown)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        _shutdown = shutdown;
        lifetime.ApplicationStarted.Register(() => _started = true);
    }

    public bool IsStopping => _shutdown.IsShuttingDown;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            IsStopping ? HealthCheckResult.Unhealthy("shutting down")
            : _started ? HealthCheckResult.Healthy("started")
            : HealthCheckResult.Unhealthy("starting"));
}
