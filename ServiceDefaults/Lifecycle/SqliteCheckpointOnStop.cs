using Microsoft.Data.Sqlite;
using Polly;
using Polly.Retry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Flushes and closes a SQLite database (WAL mode) when the service stops: <c>PRAGMA wal_checkpoint(TRUNCATE)</c>
/// writes every committed page back into the database file and empties the -wal file, then the connection pools are
/// cleared, and the last connection to close removes the -wal and -shm files. The file on disk is then whole by
/// itself: a backup or a copy taken after the stop needs no -wal beside it. It runs in StoppedAsync, after every
/// hosted service has stopped, so after the web server has drained its requests and the background loops have ended:
/// nothing writes any more. A failure is logged, never thrown, so the process still exits 0.
/// </summary>
/// <param name="databaseName">The database's name in logs (and metrics): "catalog", "outbox".</param>
/// <param name="databasePath">Called at stop: the file, or null when it must be left untouched (never opened, found damaged).</param>
/// <param name="logger">Where the stop is logged.</param>
public sealed partial class SqliteCheckpointOnStop(
    string databaseName, Func<string?> databasePath, ILogger<SqliteCheckpointOnStop> logger) : OnStoppedWork
{
    /// <summary>
    /// A connection that still reads or writes (another replica's, a stop still under way elsewhere in the process) makes
    /// the checkpoint report busy: it is tried again for about a second before the -wal is left to the next open.
    /// </summary>
    private static readonly ResiliencePipeline<bool> WhileBusy = new ResiliencePipelineBuilder<bool>()
        .AddRetry(new RetryStrategyOptions<bool>
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result),
            MaxRetryAttempts = 9,
            BackoffType = DelayBackoffType.Constant,
            Delay = TimeSpan.FromMilliseconds(100),
        })
        .Build();

    public override async Task StoppedAsync(CancellationToken cancellationToken)
    {
        try
        {
            // No path: the owner says the file must not be touched (it failed its integrity check, or was never opened).
            if (databasePath() is not { } path || !File.Exists(path))
            {
                LogSkipped(databaseName);
                return;
            }

            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWrite, // never creates a database at stop
                Pooling = false,
            }.ToString();
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using (var wait = connection.CreateCommand())
            {
                // Another process on the same file (a second replica) may hold the write lock for a moment.
                wait.CommandText = "PRAGMA busy_timeout=200;";
                await wait.ExecuteNonQueryAsync(cancellationToken);
            }

            var busy = await WhileBusy.ExecuteAsync(async token => await CheckpointAsync(connection, token), cancellationToken);
            if (busy)
            {
                LogBusy(databaseName, path);
            }
            else
            {
                LogCheckpointed(databaseName, path);
            }
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the stop goes on: SQLite replays the -wal at the next open.
            LogFailed(databaseName, ex.Message);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            LogClosed(databaseName);
        }
    }

    /// <summary>One <c>PRAGMA wal_checkpoint(TRUNCATE)</c>; true when it was busy (not everything written back).</summary>
    private static async Task<bool> CheckpointAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);"; // one row: busy, WAL pages, pages written back
        await using var reader = await checkpoint.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && reader.GetInt64(0) != 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: database {Database} ({Path}) checkpointed, its -wal emptied")]
    private partial void LogCheckpointed(string database, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: database {Database} ({Path}) could not be checkpointed completely: another connection kept using it; its -wal file stays and is replayed at the next open")]
    private partial void LogBusy(string database, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: database {Database} left untouched (not open, or not usable)")]
    private partial void LogSkipped(string database);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: database {Database} could not be checkpointed; its -wal file is replayed at the next open: {Error}")]
    private partial void LogFailed(string database, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: database {Database} closed")]
    private partial void LogClosed(string database);
}
