using System.Globalization;
using LabelingBridge.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace LabelingBridge.Outbox;

/// <summary>
/// The bridge's own SQLite file: WAL, synchronous=FULL (an accepted export survives a crash), a bounded busy
/// timeout, short BEGIN IMMEDIATE write transactions retried on BUSY/LOCKED, one connection per operation,
/// parameterized SQL only. The schema is versioned with PRAGMA user_version. Every SQLite error is counted in
/// <c>suite.db.errors{db="outbox"}</c>, every BUSY/LOCKED retry in <c>suite.retries{dependency="outbox-db"}</c>.
/// </summary>
public sealed partial class OutboxDb(
    IOptions<OutboxOptions> options,
    ILogger<OutboxDb> logger,
    DatabaseMetrics? databaseMetrics = null,
    ResilienceMetrics? resilienceMetrics = null)
{
    private readonly SemaphoreSlim _init = new(1, 1);
    private string? _connectionString;

    public string DatabasePath => Path.GetFullPath(options.Value.DatabasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_connectionString is not null)
        {
            return;
        }

        await _init.WaitAsync(cancellationToken);
        try
        {
            if (_connectionString is not null)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = DatabasePath,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = true,
                DefaultTimeout = options.Value.CommandTimeoutSeconds,
            }.ToString();
            await using (var connection = await OpenAsync(connectionString, cancellationToken))
            {
                await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
                await using (var check = connection.CreateCommand())
                {
                    check.CommandText = "PRAGMA quick_check(1);";
                    var verdict = Convert.ToString(await check.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
                    if (verdict != "ok")
                    {
                        throw new InvalidOperationException($"The outbox database {DatabasePath} failed its integrity check ({verdict}). Restore it from a backup or move it aside.");
                    }
                }

                await OutboxSchema.MigrateAsync(connection, cancellationToken);
            }

            _connectionString = connectionString;
            LogReady(logger, DatabasePath, OutboxSchema.Version);
        }
        finally
        {
            _init.Release();
        }
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        await InitializeAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(_connectionString!, cancellationToken);
            return await read(connection, cancellationToken);
        }
        catch (SqliteException ex)
        {
            databaseMetrics?.Error(DatabaseName, ex.SqliteErrorCode);
            throw;
        }
    }

    /// <summary>The <c>db</c> label of this database's metrics.</summary>
    public const string DatabaseName = "outbox";

    /// <summary>One BEGIN IMMEDIATE transaction; retried with backoff when the file is busy or locked.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await InitializeAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await OpenAsync(_connectionString!, cancellationToken);
                await using var transaction = connection.BeginTransaction(deferred: false);
                var result = await write(connection, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6 && attempt < 4)
            {
                databaseMetrics?.Error(DatabaseName, ex.SqliteErrorCode);
                resilienceMetrics?.Retry("outbox-db", "busy");
                LogBusy(logger, attempt, ex.SqliteErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt), cancellationToken);
            }
            catch (SqliteException ex)
            {
                databaseMetrics?.Error(DatabaseName, ex.SqliteErrorCode);
                throw;
            }
        }
    }

    private async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout={options.Value.BusyTimeoutMilliseconds}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"), cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox database {Path} ready (schema {Version})")]
    private static partial void LogReady(ILogger logger, string path, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox database busy (attempt {Attempt}, SQLite error {Code}); retrying")]
    private static partial void LogBusy(ILogger logger, int attempt, int code);
}

/// <summary>Schema versions of the outbox; each step runs once, in order.</summary>
internal static class OutboxSchema
{
    public const int Version = 3;

    private static readonly string[] Steps =
    [
        """
        CREATE TABLE exports (
            id TEXT PRIMARY KEY,
            document_id TEXT NOT NULL,
            state TEXT NOT NULL,
            trigger TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            last_error_code TEXT,
            last_error_message TEXT,
            last_error_at TEXT,
            delivered_at TEXT,
            project_id INTEGER,
            tasks_created INTEGER,
            tasks_existing INTEGER
        );
        CREATE INDEX ix_exports_due ON exports (state, next_attempt_at);
        CREATE INDEX ix_exports_document ON exports (document_id, created_at);
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE annotations (
            annotation_id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL,
            project_id INTEGER,
            document_id TEXT NOT NULL,
            page_no INTEGER NOT NULL,
            result_json TEXT NOT NULL,
            completed_by TEXT,
            was_cancelled INTEGER NOT NULL,
            ls_created_at TEXT,
            ls_updated_at TEXT,
            source TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX ix_annotations_document ON annotations (document_id, page_no, annotation_id);
        CREATE INDEX ix_annotations_task ON annotations (task_id);
        CREATE TABLE auto_export_seen (
            document_id TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
        );
        """,
        """
        CREATE TABLE document_pages (
            document_id TEXT NOT NULL,
            page_no INTEGER NOT NULL,
            width_pt REAL NOT NULL,
            height_pt REAL NOT NULL,
            PRIMARY KEY (document_id, page_no)
        );
        """,
        """
        ALTER TABLE exports ADD COLUMN trace_parent TEXT;
        """,
    ];

    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: false);
        long current;
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "PRAGMA user_version;";
            current = (long)(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        if (current > Version)
        {
            throw new InvalidOperationException($"The outbox database has schema {current}, newer than this bridge's {Version}. Run a newer bridge or restore an older database.");
        }

        for (var step = (int)current; step < Version; step++)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Steps[step] + string.Create(CultureInfo.InvariantCulture, $"\nPRAGMA user_version = {step + 1};");
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}

/// <summary>Timestamps as fixed-width UTC text, so text order is time order in SQL.</summary>
internal static class OutboxTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string ToText(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? ParseNullable(string? text) => text is null ? null : Parse(text);
}
