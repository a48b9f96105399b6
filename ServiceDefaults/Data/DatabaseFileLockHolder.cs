using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Holds a database's <see cref="DatabaseFileLock"/> shared from start-up until the host is disposed, so that the
/// restore command refuses to swap the file under a running service. Registered before the database's own
/// initializer, so the lock is held before the file is first opened. While a restore holds the lock, start-up waits
/// for it a little, then fails with a message saying why.
/// </summary>
internal sealed partial class DatabaseFileLockHolder(
    string name,
    Func<string> databasePath,
    TimeProvider time,
    ILogger<DatabaseFileLockHolder> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan RestoreWait = TimeSpan.FromSeconds(15);
    private DatabaseFileLock? _lock;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = databasePath();
        var giveUpAt = time.GetUtcNow() + RestoreWait;
        while ((_lock = DatabaseFileLock.TryTakeShared(path)) is null)
        {
            if (time.GetUtcNow() > giveUpAt)
            {
                throw new InvalidOperationException(
                    $"The {name} database {path} is being restored (the restore command holds {DatabaseFileLock.PathFor(path)}). " +
                    "Start the service again once the restore has finished.");
            }

            LogWaiting(name, path);
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken);
        }
    }

    // Held until disposal, not released at stop: the service may use the database until the host is gone.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _lock?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Database} database {Path} is being restored; start-up waits for the restore to finish")]
    private partial void LogWaiting(string database, string path);
}
