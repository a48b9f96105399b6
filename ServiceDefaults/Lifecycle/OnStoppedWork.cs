using Microsoft.Extensions.Hosting;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Work done once the host has stopped: after the web server let the requests in flight finish and every hosted
/// service stopped (<see cref="IHostedLifecycleService.StoppedAsync"/>), so nothing uses what it closes or removes.
/// </summary>
public abstract class OnStoppedWork : IHostedLifecycleService
{
    public abstract Task StoppedAsync(CancellationToken cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
