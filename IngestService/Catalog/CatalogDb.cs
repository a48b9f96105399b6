using Microsoft.Data.Sqlite;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace IngestService.Catalog;

/// <summary>
/// Connections to the catalog: one per operation, always disposed, with the per-connection pragmas set on every
/// open. Writes run in short BEGIN IMMEDIATE transactions (what Microsoft.Data.Sqlite's BeginTransaction() issues),
/// so a read-modify-write never hits SQLITE_BUSY_SNAPSHOT; BUSY/LOCKED are retried with a small backoff.
/// </summary>
internal sealed partial class CatalogDb
{
    public const int SqliteBusy = 5;
    public const int SqliteLocked = 6;
    public const int SqliteCorrupt = 11;
    public const int SqliteFull = 13;
    public const int SqliteNotADatabase = 26;

    private const int MaxAttempts = 4;
    private readonly string _connectionString;
    private readonly CatalogState _state;
    private readonly ILogger<CatalogDb> _logger;
    private readonly DatabaseMetrics? _databaseMetrics;
    private readonly ResilienceMetrics? _resilienceMetrics;
    private readonly SQLitePCL.strdelegate_trace _countStatement;
    private long _statements;

    public CatalogDb(string path, CatalogState state, ILogger<CatalogDb> logger, DatabaseMetrics? databaseMetrics = null, ResilienceMetrics? resilienceMetrics = null)
    {
        Path = path;
        _state = state;
        _logger = logger;
        _databaseMetrics = databaseMetrics;
        _resilienceMetrics = resilienceMetrics;
        // SQLite's trace hook runs once per statement executed: the count proves queries stay bounded (Req PERF-4).
        _countStatement = (_, _) =>
        {
            Interlocked.Increment(ref _statements);
            _databaseMetrics?.Statement(DatabaseName);
        };
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = 10,
            Pooling = true,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>SQL statements executed on the catalog's connections since start (pragmas included).</summary>
    public long StatementsExecuted => Interlocked.Read(ref _statements);

    /// <summary>Called after every committed write (wakes the event pump, which looks for new progress events).</summary>
    public Action? Committed { get; set; }

    /// <summary>
    /// Opens a connection with the per-connection settings; only the initializer may skip the availability check. A
    /// background poller's connection (the event pump's) is left out of <see cref="StatementsExecuted"/>.
    /// </summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken, bool requireAvailable = true, bool countStatements = true)
    {
        if (requireAvailable && !_state.IsAvailable)
        {
            throw new CatalogUnavailableException(_state.Current.Description);
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            SQLitePCL.raw.sqlite3_trace(connection.Handle, countStatements ? _countStatement : null, null);
            await using var pragmas = connection.CreateCommand();
            // synchronous is per connection: FULL so that a committed upload survives a power loss, not only kill -9.
            pragmas.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a read on its own connection, retrying BUSY/LOCKED.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithRetryAsync(async () =>
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Runs a write in one BEGIN IMMEDIATE transaction that commits when <paramref name="work"/> returns normally.
    /// When the work has side effects outside the database (a file rename), pass <paramref name="repeatable"/> false:
    /// then only acquiring the write lock is retried, never the work itself.
    /// </summary>
    public Task<T> WriteAsync<T>(
        Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken,
        bool repeatable = true)
    {
        if (repeatable)
        {
            return WithRetryAsync(() => WriteOnceAsync(work, cancellationToken), cancellationToken);
        }

        return WriteWithLockRetryAsync(work, cancellationToken);
    }

    private async Task<T> WriteOnceAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction();
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Committed?.Invoke();
        return result;
    }

    private async Task<T> WriteWithLockRetryAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var (connection, transaction) = await WithRetryAsync(async () =>
        {
            var c = await OpenAsync(cancellationToken);
            try
            {
                return (c, c.BeginTransaction());
            }
            catch
            {
                await c.DisposeAsync();
                throw;
            }
        }, cancellationToken);

        await using (connection)
        await using (transaction)
        {
            try
            {
                var result = await work(connection, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                Committed?.Invoke();
                return result;
            }
            catch (SqliteException ex)
            {
                NoteFailure(ex);
                throw;
            }
        }
    }

    private async Task<T> WithRetryAsync<T>(Func<Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await attempt();
            }
            catch (SqliteException ex) when (IsBusy(ex) && tries < MaxAttempts)
            {
                _databaseMetrics?.Error(DatabaseName, ex.SqliteErrorCode);
                _resilienceMetrics?.Retry("catalog-db", "busy");
                var delay = TimeSpan.FromMilliseconds((25 << tries) + Random.Shared.Next(0, 25));
                LogBusy(tries, delay.TotalMilliseconds, ex.Message);
                await Task.Delay(delay, cancellationToken);
            }
            catch (SqliteException ex)
            {
                NoteFailure(ex);
                throw;
            }
        }
    }

    public static bool IsBusy(SqliteException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.SqliteErrorCode is SqliteBusy or SqliteLocked;
    }

    /// <summary>The <c>db</c> label of the catalog's metrics.</summary>
    public const string DatabaseName = "catalog";

    /// <summary>
    /// Every failure is counted (<c>suite.db.errors{db="catalog"}</c>); corruption is loud and sticky: the catalog is
    /// marked unavailable so nothing writes to it any more.
    /// </summary>
    private void NoteFailure(SqliteException ex)
    {
        _databaseMetrics?.Error(DatabaseName, ex.SqliteErrorCode);
        if (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            LogCorrupt(Path, ex.Message);
            _state.MarkUnavailable("the catalog database is corrupt: " + ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catalog busy (attempt {Attempt}); retrying in {DelayMs} ms: {Error}")]
    private partial void LogBusy(int attempt, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Catalog database {Path} is corrupt; the service stops using it and reports not ready: {Error}")]
    private partial void LogCorrupt(string path, string error);
}
