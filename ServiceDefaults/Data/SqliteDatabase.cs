using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// The one way the suite's services use a SQLite file (the catalog, the bridge's outbox):
/// <list type="bullet">
/// <item>connections from Microsoft.Data.Sqlite's pool, at most <see cref="SqliteDatabaseOptions.MaxConnections"/> open
/// at once, always disposed, with the per-connection pragmas set on every open (synchronous=FULL, busy_timeout,
/// foreign_keys) (Req DB-6);</item>
/// <item>every operation bounded by its command timeout: the wait for a connection slot, SQLite's lock waits and the
/// busy retries (<see cref="BusyRetry"/>, Polly) share that one budget (Req TMO-2);</item>
/// <item>writes in short BEGIN IMMEDIATE transactions (so a read-modify-write never hits SQLITE_BUSY_SNAPSHOT), behind
/// the write breaker that puts the database in read-only mode after repeated write failures (Req CB-5);</item>
/// <item>only <see cref="InitializeAsync"/> may create the file; later opens use Mode=ReadWrite, so a file that vanished
/// (storage unmounted) fails with SQLITE_CANTOPEN instead of coming back empty.</item>
/// </list>
/// Every SQLite error is counted in <c>suite.db.errors{db}</c>, every statement in <c>suite.db.statements{db}</c>.
/// </summary>
public sealed partial class SqliteDatabase
{
    private readonly SqliteDatabaseOptions _options;
    private readonly string _createConnectionString;
    private readonly string _connectionString;
    private readonly ConnectionGate _gate;
    private readonly BusyRetry _busyRetry;
    private readonly WriteBreaker _writeBreaker;
    private readonly DatabaseMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SQLitePCL.strdelegate_trace _countStatement;
    private long _statements;

    /// <param name="name">The database's name in metrics and messages ("catalog", "outbox"); its busy retries count as
    /// dependency "{name}-db", its write breaker is "{name}-writes".</param>
    public SqliteDatabase(
        string name,
        string path,
        SqliteDatabaseOptions options,
        ILoggerFactory loggerFactory,
        DatabaseMetrics? metrics = null,
        ResilienceMetrics? resilienceMetrics = null,
        CircuitBreakerStates? breakerStates = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Name = name;
        Path = path;
        _options = options;
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory.CreateLogger<SqliteDatabase>();
        _gate = new ConnectionGate(options.MaxConnections);
        _busyRetry = new BusyRetry(name + "-db", options.BusyRetryAttempts, _time, loggerFactory, resilienceMetrics);
        _writeBreaker = new WriteBreaker(name, WriteDependency, options.WriteBreaker, _time, loggerFactory, breakerStates);
        metrics?.ObserveConnections(name, () => _gate.Open);
        // SQLite's trace hook runs once per statement executed: the count proves queries stay bounded (Req PERF-4).
        _countStatement = (_, _) =>
        {
            Interlocked.Increment(ref _statements);
            _metrics?.Statement(Name);
        };
        // The initializer's connection is not pooled: kept idle it would be one handle more than the bound allows.
        _createConnectionString = ConnectionString(SqliteOpenMode.ReadWriteCreate, pooling: false);
        _connectionString = ConnectionString(SqliteOpenMode.ReadWrite, pooling: true);
    }

    public string Name { get; }

    public string Path { get; }

    /// <summary>The write breaker's name in <see cref="CircuitBreakerStates"/> and the breaker gauge.</summary>
    public string WriteDependency => Name + "-writes";

    /// <summary>Connections open now (taken from the pool and not yet closed).</summary>
    public int OpenConnections => _gate.Open;

    /// <summary>The most connections open at once since start (or since <see cref="ResetPeakOpenConnections"/>).</summary>
    public int PeakOpenConnections => _gate.Peak;

    public int MaxConnections => _gate.MaxConnections;

    public void ResetPeakOpenConnections() => _gate.ResetPeak();

    /// <summary>SQL statements executed on counted connections since start (pragmas included).</summary>
    public long StatementsExecuted => Interlocked.Read(ref _statements);

    /// <summary>Called after every committed write.</summary>
    public Action? Committed { get; set; }

    /// <summary>Why the database is in read-only mode, from the moment it entered it until a probe write succeeds; null while writable.</summary>
    public ReadOnlyStatus? ReadOnly => _writeBreaker.Status;

    /// <summary>
    /// The refusal a write would get now (read-only mode and the break not over yet), or null when a write may go ahead.
    /// For callers that should refuse before doing costly work (reading an upload's body).
    /// </summary>
    public DatabaseReadOnlyException? WriteRefusal() => _writeBreaker.Refusal();

    /// <summary>
    /// Opens the file (creating it if missing: the only open allowed to), checks it, switches it to WAL and applies the
    /// pending <paramref name="migrations"/> (<see cref="SqliteSchema"/>).
    /// </summary>
    public async Task<SchemaCheck> InitializeAsync(IReadOnlyList<string> migrations, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenCoreAsync(_createConnectionString, Deadline(), countStatements: true, cancellationToken);
            var check = await SqliteSchema.ApplyAsync(connection, migrations, _logger, cancellationToken);
            if (check.Problem == SchemaProblem.Damaged)
            {
                _metrics?.Error(Name, SqliteErrors.Corrupt);
            }

            return check;
        }
        catch (SqliteException ex)
        {
            Count(ex);
            throw;
        }
    }

    /// <summary>
    /// A connection for work that manages its own statements (a background poller); the caller disposes it, which gives
    /// its slot back. <paramref name="countStatements"/> false leaves it out of <see cref="StatementsExecuted"/>.
    /// </summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken, bool countStatements = true)
    {
        try
        {
            return await OpenCoreAsync(_connectionString, Deadline(), countStatements, cancellationToken);
        }
        catch (SqliteException ex)
        {
            Count(ex);
            throw;
        }
    }

    /// <summary>Runs a read on its own connection, retrying BUSY/LOCKED within the command timeout.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var deadline = Deadline();
        return _busyRetry.ExecuteAsync(
            async token =>
            {
                try
                {
                    await using var connection = await OpenCoreAsync(_connectionString, deadline, countStatements: true, token);
                    return await work(connection, token);
                }
                catch (SqliteException ex)
                {
                    Count(ex);
                    throw;
                }
            },
            deadline,
            cancellationToken);
    }

    /// <summary>
    /// Runs a write in one BEGIN IMMEDIATE transaction that commits when <paramref name="work"/> returns normally,
    /// through the write breaker (in read-only mode it fails at once with <see cref="DatabaseReadOnlyException"/>).
    /// When the work has side effects outside the database (a file rename), pass <paramref name="repeatable"/> false:
    /// then only acquiring the write lock is retried, never the work itself.
    /// </summary>
    public Task<T> WriteAsync<T>(
        Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken,
        bool repeatable = true)
    {
        ArgumentNullException.ThrowIfNull(work);
        var deadline = Deadline();
        return _writeBreaker.ExecuteAsync(
            token => repeatable
                ? _busyRetry.ExecuteAsync(t => WriteOnceAsync(work, deadline, t), deadline, token)
                : WriteOnceAfterLockAsync(work, deadline, token),
            cancellationToken);
    }

    private async Task<T> WriteOnceAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, long deadline, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenForWriteAsync(deadline, cancellationToken);
            await using var transaction = connection.BeginTransaction();
            return await WorkAndCommitAsync(work, connection, transaction, cancellationToken);
        }
        catch (Exception ex)
        {
            NoteWriteFailure(ex);
            throw;
        }
    }

    private async Task<T> WriteOnceAfterLockAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, long deadline, CancellationToken cancellationToken)
    {
        var (connection, transaction) = await _busyRetry.ExecuteAsync(
            async token =>
            {
                SqliteConnection? opened = null;
                try
                {
                    opened = await OpenForWriteAsync(deadline, token);
                    return (opened, opened.BeginTransaction());
                }
                catch (Exception ex)
                {
                    if (opened is not null)
                    {
                        await opened.DisposeAsync();
                    }

                    NoteWriteFailure(ex);
                    throw;
                }
            },
            deadline,
            cancellationToken);

        await using (connection)
        await using (transaction)
        {
            try
            {
                return await WorkAndCommitAsync(work, connection, transaction, cancellationToken);
            }
            catch (Exception ex)
            {
                NoteWriteFailure(ex);
                throw;
            }
        }
    }

    private async Task<T> WorkAndCommitAsync<T>(
        Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Committed?.Invoke();
        return result;
    }

    private async Task<SqliteConnection> OpenForWriteAsync(long deadline, CancellationToken cancellationToken)
    {
        // A pooled connection to a file that was deleted or unmounted would write into an unlinked inode: drop the
        // pool, so the open below fails with SQLITE_CANTOPEN (Mode=ReadWrite never creates the file).
        if (!File.Exists(Path))
        {
            ClearPool();
        }

        var connection = await OpenCoreAsync(_connectionString, deadline, countStatements: true, cancellationToken);
        if (!WalFiles.IsReadOnlyHandle(connection))
        {
            return connection;
        }

        // Opened while the file system was read-only: it can never write. Discard the pool's handles and open afresh;
        // if the file system is still read-only, the write then fails with SQLITE_READONLY and counts as a failure.
        ClearPool();
        await connection.DisposeAsync();
        return await OpenCoreAsync(_connectionString, deadline, countStatements: true, cancellationToken);
    }

    private async Task<SqliteConnection> OpenCoreAsync(string connectionString, long deadline, bool countStatements, CancellationToken cancellationToken)
    {
        if (!await _gate.EnterAsync(Remaining(deadline), cancellationToken))
        {
            // Counted and mapped like a lock that stayed held: the caller gets "busy, retry later".
            throw new SqliteException(
                $"No connection to the {Name} became free within {_options.CommandTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s: " +
                $"all {_gate.MaxConnections.ToString(CultureInfo.InvariantCulture)} were in use.",
                SqliteErrors.Busy);
        }

        SqliteConnection connection;
        try
        {
            connection = new GatedSqliteConnection(connectionString, _gate);
        }
        catch
        {
            _gate.Leave();
            throw;
        }

        try
        {
            await connection.OpenAsync(cancellationToken);
            WalFiles.KeepAfterClose(connection);
            SQLitePCL.raw.sqlite3_trace(connection.Handle, countStatements ? _countStatement : null, null);
            // What is left of the budget bounds both SQLite's lock wait and Microsoft.Data.Sqlite's own busy loop
            // (DefaultTimeout, whole seconds, applies to every command created on this connection and to BEGIN).
            var left = Remaining(deadline);
            connection.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
            var busyTimeout = (int)Math.Clamp(left.TotalMilliseconds, 1, _options.BusyTimeoutMilliseconds);
            await using var pragmas = connection.CreateCommand();
            // synchronous is per connection: FULL so that a committed write survives a power loss, not only kill -9.
            pragmas.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={busyTimeout}; PRAGMA foreign_keys=ON;");
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Counts the failure; a write failure also drops the pool's handles, so the next write opens the file afresh.</summary>
    private void NoteWriteFailure(Exception exception)
    {
        if (exception is SqliteException sqlite)
        {
            Count(sqlite);
        }

        if (SqliteErrors.IsWriteFailure(exception))
        {
            LogWriteFailed(_logger, exception, Name, exception.Message);
            ClearPool();
        }
    }

    private void Count(SqliteException exception)
    {
        if (exception is not DatabaseReadOnlyException)
        {
            _metrics?.Error(Name, exception.SqliteErrorCode);
        }
    }

    private void ClearPool()
    {
        using var any = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(any);
    }

    private long Deadline() => _time.GetTimestamp() + (long)(_options.CommandTimeoutSeconds * (double)_time.TimestampFrequency);

    private TimeSpan Remaining(long deadline)
    {
        var now = _time.GetTimestamp();
        return now >= deadline ? TimeSpan.Zero : _time.GetElapsedTime(now, deadline);
    }

    private string ConnectionString(SqliteOpenMode mode, bool pooling) => new SqliteConnectionStringBuilder
    {
        DataSource = Path,
        Mode = mode,
        DefaultTimeout = _options.CommandTimeoutSeconds,
        Pooling = pooling,
    }.ToString();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A write to the {Database} failed: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string database, string error);
}
