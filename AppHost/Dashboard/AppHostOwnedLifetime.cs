namespace Suite.AppHost.Dashboard;

/// <summary>
/// The dashboard's web host must not react to Ctrl+C itself (the default console lifetime would): the
/// AppHost handles the signals and stops the dashboard last, after every service has flushed its telemetry.
/// </summary>
internal sealed class AppHostOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
