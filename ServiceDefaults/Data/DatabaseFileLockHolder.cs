using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Lifecycle;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Holds a database's <see cref="DatabaseFileLock"/> shared from start-up until the host is disposed, so that the
/// restore command refuses to swap the file under a running service. A start-up step registered before the database's
/// own initializer (and after the storage check), so the lock is held before the file is first opened. While a restore
/// holds the lock, or the folder cannot be written yet, the step fails and start-up retries it with backoff, saying
/// why in readiness.
/// </summary>
internal sealed partial class DatabaseFileLockHolder(string name, Func<string> databasePath, ILogger<DatabaseFileLockHolder> logger)
    : IStartupStep, IDisposable
{
    private DatabaseFileLock? _lock;

    public string Name => $"locking the {name} database";

    public Task RunAsync(CancellationToken cancellationToken)
    {
        var path = databasePath();
        _lock ??= DatabaseFileLock.TryTakeShared(path);
        if (_lock is null)
        {
            LogWaiting(name, path);
            throw new InvalidOperationException(
                $"The {name} database {path} is being restored (the restore command holds {DatabaseFileLock.PathFor(path)}); " +
                "start-up goes on once the restore has finished.");
        }

        return Task.CompletedTask;
    }

    // Held until disposal, not released at stop: the service may use the database until the host is gone.
    public void Dispose() => _lock?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Database} database {Path} is being restored; start-up waits for the restore to finish")]
    private partial void LogWaiting(string database, string path);
}
