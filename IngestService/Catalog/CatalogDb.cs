using Microsoft.Data.Sqlite;
using Suite.ServiceDefaults.Data;

namespace IngestService.Catalog;

/// <summary>
/// The catalog's SQLite file, through the suite's shared access layer (<see cref="SqliteDatabase"/>: bounded pool,
/// bounded waits with Polly busy retries, BEGIN IMMEDIATE writes, read-only mode after repeated write failures). This
/// wrapper adds what is the catalog's own: nothing is opened while start-up found the file unusable, and corruption
/// reported later makes it unavailable for good.
/// </summary>
internal sealed partial class CatalogDb
{
    public const int SqliteBusy = SqliteErrors.Busy;
    public const int SqliteLocked = SqliteErrors.Locked;
    public const int SqliteCorrupt = SqliteErrors.Corrupt;
    public const int SqliteFull = SqliteErrors.Full;
    public const int SqliteNotADatabase = SqliteErrors.NotADatabase;

    /// <summary>The <c>db</c> label of the catalog's metrics.</summary>
    public const string DatabaseName = "catalog";

    private readonly CatalogState _state;
    private readonly ILogger<CatalogDb> _logger;

    public CatalogDb(SqliteDatabase database, CatalogState state, ILogger<CatalogDb> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        Database = database;
        _state = state;
        _logger = logger;
    }

    /// <summary>The shared access layer under this catalog (connection counts, read-only mode, initialization).</summary>
    public SqliteDatabase Database { get; }

    public string Path => Database.Path;

    /// <summary>SQL statements executed on the catalog's connections since start (pragmas included).</summary>
    public long StatementsExecuted => Database.StatementsExecuted;

    /// <summary>Called after every committed write (wakes the event pump, which looks for new progress events).</summary>
    public Action? Committed
    {
        get => Database.Committed;
        set => Database.Committed = value;
    }

    /// <summary>
    /// Opens a connection with the per-connection settings; the caller disposes it. A background poller's connection
    /// (the event pump's) is left out of <see cref="StatementsExecuted"/>.
    /// </summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken, bool requireAvailable = true, bool countStatements = true)
    {
        if (requireAvailable)
        {
            EnsureAvailable();
        }

        try
        {
            return await Database.OpenAsync(cancellationToken, countStatements);
        }
        catch (SqliteException ex)
        {
            NoteCorruption(ex);
            throw;
        }
    }

    /// <summary>Runs a read on its own connection, retrying BUSY/LOCKED within the command timeout.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        EnsureAvailable();
        try
        {
            return await Database.ReadAsync(work, cancellationToken);
        }
        catch (SqliteException ex)
        {
            NoteCorruption(ex);
            throw;
        }
    }

    /// <summary>
    /// Runs a write in one BEGIN IMMEDIATE transaction that commits when <paramref name="work"/> returns normally.
    /// When the work has side effects outside the database (a file rename), pass <paramref name="repeatable"/> false:
    /// then only acquiring the write lock is retried, never the work itself. In read-only mode it fails at once with
    /// <see cref="DatabaseReadOnlyException"/>.
    /// </summary>
    public async Task<T> WriteAsync<T>(
        Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken,
        bool repeatable = true)
    {
        EnsureAvailable();
        try
        {
            return await Database.WriteAsync(work, cancellationToken, repeatable);
        }
        catch (SqliteException ex)
        {
            NoteCorruption(ex);
            throw;
        }
    }

    public static bool IsBusy(SqliteException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return SqliteErrors.IsBusy(ex);
    }

    private void EnsureAvailable()
    {
        if (!_state.IsAvailable)
        {
            throw new CatalogUnavailableException(_state.Current.Description);
        }
    }

    /// <summary>Corruption is loud and sticky: the catalog is marked unavailable so nothing writes to it any more.</summary>
    private void NoteCorruption(SqliteException ex)
    {
        if (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            LogCorrupt(Path, ex.Message);
            _state.MarkUnavailable("the catalog database is corrupt: " + ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Catalog database {Path} is corrupt; the service stops using it and reports not ready: {Error}")]
    private partial void LogCorrupt(string path, string error);
}
