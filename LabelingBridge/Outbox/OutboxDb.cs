using LabelingBridge.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace LabelingBridge.Outbox;

/// <summary>
/// The bridge's own SQLite file through the suite's shared access layer (<see cref="SqliteDatabase"/>): WAL,
/// synchronous=FULL (an accepted export survives a crash), bounded waits with Polly busy retries, at most
/// <c>Outbox:MaxConnections</c> connections, BEGIN IMMEDIATE writes and read-only mode after repeated write failures
/// (breaker <c>outbox-writes</c>). The schema (<see cref="OutboxSchema"/>) is applied on first use or at start-up.
/// </summary>
public sealed partial class OutboxDb
{
    /// <summary>The <c>db</c> label of this database's metrics.</summary>
    public const string DatabaseName = "outbox";

    private readonly SemaphoreSlim _init = new(1, 1);
    private readonly ILogger<OutboxDb> _logger;
    private volatile bool _initialized;

    public OutboxDb(
        IOptions<OutboxOptions> options,
        ILoggerFactory loggerFactory,
        DatabaseMetrics? databaseMetrics = null,
        ResilienceMetrics? resilienceMetrics = null,
        CircuitBreakerStates? breakerStates = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger<OutboxDb>();
        Database = new SqliteDatabase(
            DatabaseName, Path.GetFullPath(options.Value.DatabasePath), options.Value, loggerFactory, databaseMetrics, resilienceMetrics, breakerStates, time);
    }

    /// <summary>The shared access layer under the outbox (connection counts, read-only mode).</summary>
    public SqliteDatabase Database { get; }

    public string DatabasePath => Database.Path;

    /// <summary>Creates, checks and migrates the file once; a damaged or too new file stops the bridge with a message saying what to do.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _init.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
            {
                return;
            }

            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(DatabasePath)!);
            var check = await Database.InitializeAsync(OutboxSchema.Steps, cancellationToken);
            switch (check.Problem)
            {
                case SchemaProblem.Damaged:
                    throw new InvalidOperationException($"The outbox database {DatabasePath} failed its integrity check ({check.QuickCheck}). Restore it from a backup or move it aside.");
                case SchemaProblem.NotWal:
                    throw new InvalidOperationException($"The outbox database {DatabasePath} could not switch to WAL journal mode (it reports '{check.JournalMode}').");
                case SchemaProblem.NewerThanKnown:
                    throw new InvalidOperationException($"The outbox database has schema {check.FoundVersion}, newer than this bridge's {check.LatestVersion}. Run a newer bridge or restore an older database.");
            }

            _initialized = true;
            LogReady(_logger, DatabasePath, check.LatestVersion);
        }
        finally
        {
            _init.Release();
        }
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        return await Database.ReadAsync(read, cancellationToken);
    }

    /// <summary>One BEGIN IMMEDIATE transaction; in read-only mode it fails at once with <see cref="DatabaseReadOnlyException"/>.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        return await Database.WriteAsync(write, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox database {Path} ready (schema {Version})")]
    private static partial void LogReady(ILogger logger, string path, int version);
}
