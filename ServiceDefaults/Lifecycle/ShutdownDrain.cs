using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// The drain window. StoppingAsync runs before any hosted service's StopAsync, so before the web server stops: it marks
/// shutdown begun (readiness 503, new requests refused with 503 <c>shutting_down</c>) and waits
/// <c>Shutdown:DrainSeconds</c> while Kestrel still listens, so a load balancer sees 503s rather than connection resets.
/// Then the server stops taking connections and lets in-flight requests finish within what is left of
/// <c>Shutdown:TimeoutSeconds</c>; the other hosted services stop after it (the web server is registered last, so it
/// stops first), and StoppedAsync runs after them all.
/// </summary>
internal sealed partial class ShutdownDrain(
    ShutdownState shutdown, IOptions<ShutdownOptions> options, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private long _stoppingAt;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        shutdown.Begin();
        _stoppingAt = time.GetTimestamp();
        var settings = options.Value;
        LogDraining(settings.DrainSeconds, settings.TimeoutSeconds);
        if (settings.DrainSeconds > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(settings.DrainSeconds), time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The shutdown timeout ran out first: stop now rather than fail the stop.
            }
        }

        LogServerStopping();
    }

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        LogStopped(time.GetElapsedTime(_stoppingAt).TotalMilliseconds);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message =
        "Shutdown: draining for {DrainSeconds} s (readiness 503, new requests refused) within a shutdown timeout of {TimeoutSeconds} s")]
    private partial void LogDraining(int drainSeconds, int timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: drain over; the server stops listening and lets in-flight requests finish")]
    private partial void LogServerStopping();

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: server and background services stopped {ElapsedMs:F0} ms after shutdown began")]
    private partial void LogStopped(double elapsedMs);
}
