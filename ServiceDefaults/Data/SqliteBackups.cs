using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.ServiceDefaults.Data;

/// <summary>Where one database's backups stand, for readiness and the admin route.</summary>
public sealed record BackupStatus(
    DateTimeOffset? LastSuccessAt,
    BackupFile? LastBackup,
    DateTimeOffset? LastFailureAt,
    string? LastError,
    long Successes,
    long Failures);

/// <summary>The database may not be copied now (it failed its integrity check, or was found damaged since).</summary>
public sealed class BackupRefusedException(string message) : Exception(message);

/// <summary>
/// Online backups and integrity checks of one SQLite database while its service keeps using it. A backup is
/// SQLite's online backup API (<see cref="SqliteConnection.BackupDatabase(SqliteConnection)"/>): one read
/// transaction copies a consistent snapshot while writers go on (WAL). The copy goes to a temp file in the backup
/// folder, is switched to a rollback journal (one self-contained file), must pass <c>PRAGMA quick_check</c>, is
/// fsynced and only then renamed to its final name; every failure path deletes the temp file. One backup runs at a
/// time (periodic and on demand share this object).
/// </summary>
public sealed partial class SqliteBackups
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly Func<bool> _isReady;
    private readonly Action<string>? _onDamage;
    private readonly TimeProvider _time;
    private readonly BackupMetrics _metrics;
    private readonly DatabaseMetrics? _databaseMetrics;
    private readonly ILogger<SqliteBackups> _logger;
    private volatile BackupStatus _status = new(null, null, null, null, 0, 0);
    private volatile string? _damage;

    public SqliteBackups(
        string name,
        string databasePath,
        SqliteBackupOptions options,
        Func<bool> isReady,
        Action<string>? onDamage,
        TimeProvider time,
        BackupMetrics metrics,
        ILogger<SqliteBackups> logger,
        DatabaseMetrics? databaseMetrics = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(metrics);
        Name = name;
        DatabasePath = Path.GetFullPath(databasePath);
        Options = options;
        Folder = new BackupFolder(options.ResolveFolder(DatabasePath), name);
        _isReady = isReady;
        _onDamage = onDamage;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _databaseMetrics = databaseMetrics;
        StartedAt = time.GetUtcNow();
        metrics.Track(name, () => Age(_time.GetUtcNow()).TotalSeconds);
    }

    /// <summary>The database's name: the <c>db</c> label of its metrics and the prefix of its backup files.</summary>
    public string Name { get; }

    public string DatabasePath { get; }

    public SqliteBackupOptions Options { get; }

    public BackupFolder Folder { get; }

    public DateTimeOffset StartedAt { get; }

    public BackupStatus Status => _status;

    /// <summary>Why an integrity check found the database damaged; null while none has.</summary>
    public string? Damage => _damage;

    /// <summary>Time since the last successful backup, or since start-up when there is none yet.</summary>
    public TimeSpan Age(DateTimeOffset now) => now - (_status.LastSuccessAt ?? StartedAt);

    /// <summary>Why the database must not be copied now, or null. A damaged database has nothing good to copy.</summary>
    public string? Refusal()
    {
        if (_damage is { } damage)
        {
            return $"the {Name} database was found damaged ({damage}); it is not backed up. Restore it from a backup (docs/runbooks/restore.md).";
        }

        if (!_isReady())
        {
            return $"the {Name} database is not available (it failed its start-up integrity check or is not open yet); there is nothing good to copy.";
        }

        // A volume that vanished leaves an empty mount point: nothing may be written there (it would vanish when the
        // volume returns), and there is nothing to copy.
        return File.Exists(DatabasePath)
            ? null
            : $"the {Name} database file {DatabasePath} is not there (is its volume mounted?); nothing is written until it is.";
    }

    /// <summary>
    /// Takes a backup now, then deletes the backups beyond <see cref="SqliteBackupOptions.Retain"/>. Throws
    /// <see cref="BackupRefusedException"/> when the database is not fit to copy, and the I/O or SQLite error of a
    /// failed backup (after logging and counting it).
    /// </summary>
    public async Task<BackupFile> BackupNowAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            if (Refusal() is { } refusal)
            {
                _metrics.Backup(Name, BackupMetrics.Skipped);
                LogSkipped(Name, refusal);
                throw new BackupRefusedException(refusal);
            }

            var takenAt = _time.GetUtcNow();
            var clock = Stopwatch.StartNew();
            BackupFile backup;
            try
            {
                // The SQLite calls block; off the request or timer thread.
                backup = await Task.Run(() => Copy(takenAt), cancellationToken);
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or BackupVerificationException)
            {
                var status = _status;
                _status = status with { LastFailureAt = _time.GetUtcNow(), LastError = ex.Message, Failures = status.Failures + 1 };
                _metrics.Backup(Name, BackupMetrics.Failure);
                if (ex is SqliteException sqlite)
                {
                    _databaseMetrics?.Error(Name, sqlite.SqliteErrorCode);
                }

                LogFailed(Name, DatabasePath, Folder.Folder, ex.Message, ex);
                throw;
            }

            var before = _status;
            _status = before with { LastSuccessAt = backup.TakenAt, LastBackup = backup, Successes = before.Successes + 1 };
            _metrics.Backup(Name, BackupMetrics.Success);
            LogTaken(Name, backup.Path, backup.SizeBytes, clock.Elapsed.TotalMilliseconds);
            PruneOldBackups();
            return backup;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// The full <c>PRAGMA integrity_check</c> on the live file. Damage found is logged Critical, counted as a corrupt
    /// error in <c>suite.db.errors</c>, stops further backups and is handed to the service (which stops using the file).
    /// </summary>
    public async Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken)
    {
        var report = await Task.Run(() => SqliteIntegrity.IntegrityCheck(DatabasePath), cancellationToken);
        if (report.Damaged)
        {
            var reason = $"PRAGMA integrity_check found the {Name} database damaged: {report.Summary}. Restore it from a backup.";
            _damage = report.Summary;
            _databaseMetrics?.Error(Name, SqliteErrors.Corrupt);
            LogDamaged(Name, DatabasePath, report.Summary);
            _onDamage?.Invoke(reason);
        }
        else if (!report.Ok)
        {
            LogCheckFailed(Name, DatabasePath, report.Summary);
        }

        return report;
    }

    /// <summary>Deletes temp files a crashed backup left behind (at start-up).</summary>
    public void RemoveStaleTemps()
    {
        var removed = Folder.RemoveStaleTemps();
        if (removed > 0)
        {
            LogStaleTemps(Name, removed, Folder.Folder);
        }
    }

    private BackupFile Copy(DateTimeOffset takenAt)
    {
        Directory.CreateDirectory(Folder.Folder);
        var temp = Folder.NewTempPath(takenAt);
        var final = Folder.PathFor(takenAt);
        try
        {
            // ReadWrite, not ReadWriteCreate: a missing database is an error, never an empty backup.
            using (var source = SqliteIntegrity.Open(DatabasePath))
            using (var copy = SqliteIntegrity.Open(temp, SqliteOpenMode.ReadWriteCreate))
            {
                source.BackupDatabase(copy);
                // The live file is in WAL mode and the copy takes its header; a backup is better one file alone.
                SqliteIntegrity.Execute(copy, "PRAGMA journal_mode=DELETE;");
                var check = SqliteIntegrity.QuickCheck(copy);
                if (!check.Ok)
                {
                    throw new BackupVerificationException($"the copy failed PRAGMA quick_check: {check.Summary}");
                }
            }

            BackupFolder.FlushToDisk(temp);
            File.Move(temp, final, overwrite: true);
            return new BackupFile(final, Path.GetFileName(final), new FileInfo(final).Length, takenAt);
        }
        finally
        {
            // After the rename only SQLite's leftovers (if any) are here; on any failure, the temp file too.
            BackupFolder.DeleteWithSidecars(temp);
        }
    }

    private void PruneOldBackups()
    {
        try
        {
            foreach (var deleted in Folder.Prune(Options.Retain))
            {
                LogPruned(Name, deleted, Options.Retain);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The new backup is safe; an old one that could not be deleted goes with the next success.
            LogPruneFailed(Name, Folder.Folder, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup of the {Database} database written to {Path} ({SizeBytes} bytes, quick_check ok) in {ElapsedMs} ms")]
    private partial void LogTaken(string database, string path, long sizeBytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted the old {Database} backup {Path} (keeping the newest {Retain})")]
    private partial void LogPruned(string database, string path, int retain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete old {Database} backups in {Folder}: {Error}")]
    private partial void LogPruneFailed(string database, string folder, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backup of the {Database} database skipped: {Reason}")]
    private partial void LogSkipped(string database, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Backup of the {Database} database {Path} to {Folder} failed; it is retried at the next interval: {Error}")]
    private partial void LogFailed(string database, string path, string folder, string error, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The {Database} database {Path} is damaged (PRAGMA integrity_check): {Problems}. The service stops using it; restore it from a backup")]
    private partial void LogDamaged(string database, string path, string problems);

    [LoggerMessage(Level = LogLevel.Error, Message = "The integrity check of the {Database} database {Path} could not run: {Error}")]
    private partial void LogCheckFailed(string database, string path, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} temp files of unfinished {Database} backups from {Folder}")]
    private partial void LogStaleTemps(string database, int count, string folder);
}

/// <summary>A backup copy that failed its check; it is deleted, never published.</summary>
public sealed class BackupVerificationException(string message) : Exception(message);
