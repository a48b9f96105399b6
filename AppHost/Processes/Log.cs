using Microsoft.Extensions.Logging;

namespace Suite.AppHost.Processes;

/// <summary>The AppHost's own log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Instance} launched: pid {ProcessId}, {Url}")]
    public static partial void Launched(ILogger logger, string instance, int processId, Uri url);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Instance} is healthy ({Detail}) {Seconds:F1} s after launch")]
    public static partial void BecameHealthy(ILogger logger, string instance, string detail, double seconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Instance} is unhealthy: {Detail}")]
    public static partial void BecameUnhealthy(ILogger logger, string instance, string detail);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "{Instance} exited unexpectedly with code {ExitCode}; restart {Restart} in {Delay:F0} s")]
    public static partial void Restarting(ILogger logger, string instance, int exitCode, int restart, double delay);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "{Instance} exited unexpectedly with code {ExitCode}; restart on exit is off")]
    public static partial void ExitedForGood(ILogger logger, string instance, int exitCode);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "{Instance} could not be launched: {Reason}")]
    public static partial void LaunchFailed(ILogger logger, string instance, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{Instance} did not stop within {Seconds:F0} s of SIGTERM; sending SIGKILL")]
    public static partial void StopTimedOut(ILogger logger, string instance, double seconds);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "{Instance} stopped (exit code {ExitCode})")]
    public static partial void Stopped(ILogger logger, string instance, int exitCode);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "setpriv (util-linux) is not on PATH: children will not be stopped if the AppHost itself is killed")]
    public static partial void NoParentDeathSignal(ILogger logger);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Stopping: {Signal} received; stopping resources in reverse dependency order (again to kill at once)")]
    public static partial void StopRequested(ILogger logger, string signal);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "{Signal} received again: killing every process now")]
    public static partial void KillRequested(ILogger logger, string signal);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Stopping {Resources}")]
    public static partial void StoppingLevel(ILogger logger, string resources);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Waiting for {Dependencies} before starting {Resource}")]
    public static partial void WaitingForDependencies(ILogger logger, string resource, string dependencies);
}
