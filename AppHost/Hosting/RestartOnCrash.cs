using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>Marks a resource whose processes (each replica on its own) are started again after an unexpected exit.</summary>
public sealed class RestartOnCrashAnnotation : IResourceAnnotation
{
    /// <summary>Wait before the first restart; doubled for each restart that follows a short run.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A process that ran this long counts as stable: its next crash starts the backoff again.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Capped exponential backoff: FirstDelay × 2^(restart−1), at most MaxDelay.</summary>
    public TimeSpan DelayBefore(int restart) =>
        TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks * (1L << Math.Clamp(restart - 1, 0, 30))));
}

public static class RestartOnCrashExtensions
{
    /// <summary>Snapshot property with the number of restarts after crashes (shown in the dashboard's details).</summary>
    public const string RestartsProperty = "suite.restarts";

    /// <summary>Snapshot property saying how the last unexpected exit ended.</summary>
    public const string LastCrashProperty = "suite.lastCrash";

    /// <summary>
    /// Snapshot property that, while true, keeps a crashed replica down (tests that kill a process and need it to stay
    /// dead set it, then start the replica themselves).
    /// </summary>
    public const string HoldProperty = "suite.restart.held";

    /// <summary>
    /// Aspire does not start a process again when it dies. With this, a replica that exits without being asked to (its
    /// state goes to a terminal one without passing through Stopping) is started again through Aspire's own start
    /// command, after a capped exponential backoff. A stop from the dashboard is not undone.
    /// </summary>
    public static IResourceBuilder<T> WithRestartOnCrash<T>(this IResourceBuilder<T> builder, RestartOnCrashAnnotation? policy = null)
        where T : IResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ApplicationBuilder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CrashRestarter>());
        return builder.WithAnnotation(policy ?? new RestartOnCrashAnnotation(), ResourceAnnotationMutationBehavior.Replace);
    }
}

/// <summary>Watches resource states and restarts crashed replicas of resources marked <see cref="RestartOnCrashAnnotation"/>.</summary>
internal sealed partial class CrashRestarter(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    ResourceLoggerService resourceLogs,
    DistributedApplicationExecutionContext execution,
    IHostApplicationLifetime lifetime,
    ILogger<CrashRestarter> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ReplicaHistory> _replicas = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!execution.IsRunMode)
        {
            return;
        }

        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken))
            {
                if (update.Resource.TryGetLastAnnotation<RestartOnCrashAnnotation>(out var policy))
                {
                    Observe(update, policy, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Observe(ResourceEvent update, RestartOnCrashAnnotation policy, CancellationToken stoppingToken)
    {
        var history = _replicas.GetOrAdd(update.ResourceId, _ => new ReplicaHistory());
        var state = update.Snapshot.State?.Text;
        lock (history)
        {
            var previous = history.State;
            history.State = state;
            if (state == KnownResourceStates.Stopping)
            {
                history.StopRequested = true;
            }
            else if (state == KnownResourceStates.Running && previous != KnownResourceStates.Running)
            {
                history.StopRequested = false;
                history.RunningSince = DateTimeOffset.UtcNow;
            }
            else if (IsTerminal(state) && !IsTerminal(previous) && previous is not null)
            {
                if (history.StopRequested || lifetime.ApplicationStopping.IsCancellationRequested || stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                var ranFor = DateTimeOffset.UtcNow - (history.RunningSince ?? DateTimeOffset.UtcNow);
                history.Restarts = ranFor >= policy.StableAfter ? 1 : history.Restarts + 1;
                history.TotalRestarts++;
                var restart = history.Restarts;
                var delay = policy.DelayBefore(restart);
                var reason = $"{state}, exit code {update.Snapshot.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}, after {ranFor.TotalSeconds:F0} s";
                _ = RestartAsync(update, history.TotalRestarts, reason, delay, stoppingToken);
            }
        }
    }

    private async Task RestartAsync(ResourceEvent update, int totalRestarts, string reason, TimeSpan delay, CancellationToken stoppingToken)
    {
        var resourceLogger = resourceLogs.GetLogger(update.ResourceId);
        try
        {
            LogCrash(resourceLogger, update.ResourceId, reason, delay.TotalSeconds, totalRestarts);
            LogCrash(logger, update.ResourceId, reason, delay.TotalSeconds, totalRestarts);
            await notifications.PublishUpdateAsync(update.Resource, update.ResourceId, s => s with
            {
                Properties = WithProperty(WithProperty(s.Properties, RestartOnCrashExtensions.RestartsProperty, totalRestarts), RestartOnCrashExtensions.LastCrashProperty, reason),
            });

            await Task.Delay(delay, stoppingToken);
            var history = _replicas[update.ResourceId];
            lock (history)
            {
                if (history.StopRequested || !IsTerminal(history.State))
                {
                    return;
                }
            }

            if (notifications.TryGetCurrentState(update.ResourceId, out var current) &&
                current.Snapshot.Properties.Any(p => p.Name == RestartOnCrashExtensions.HoldProperty && p.Value is true))
            {
                return;
            }

            var result = await commands.ExecuteCommandAsync(update.ResourceId, KnownResourceCommands.StartCommand, stoppingToken);
            if (!result.Success)
            {
                LogRestartFailed(logger, update.ResourceId, result.Message ?? "no reason given");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            LogRestartFailed(logger, update.ResourceId, ex.Message);
        }
    }

    private static bool IsTerminal(string? state) =>
        state is not null && (KnownResourceStates.TerminalStates.Contains(state) || state == "Terminated");

    private static ImmutableArray<ResourcePropertySnapshot> WithProperty(ImmutableArray<ResourcePropertySnapshot> properties, string name, object value) =>
        [.. properties.Where(p => p.Name != name), new ResourcePropertySnapshot(name, value)];

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource} exited unexpectedly ({Reason}); starting it again in {DelaySeconds:F0} s (restart {Restarts})")]
    private static partial void LogCrash(ILogger logger, string resource, string reason, double delaySeconds, int restarts);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Resource} could not be started again: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string resource, string reason);

    private sealed class ReplicaHistory
    {
        public string? State { get; set; }

        public bool StopRequested { get; set; }

        public DateTimeOffset? RunningSince { get; set; }

        /// <summary>Restarts since the process last ran stably (drives the backoff).</summary>
        public int Restarts { get; set; }

        public int TotalRestarts { get; set; }
    }
}
