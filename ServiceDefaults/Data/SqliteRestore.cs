using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>Exit codes of the restore commands (documented in docs/runbooks/restore.md).</summary>
public static class RestoreExitCodes
{
    public const int Restored = 0;

    /// <summary>An I/O error part-way; whatever had been moved was put back.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or configuration; nothing was touched.</summary>
    public const int Usage = 2;

    /// <summary>No backup found, or the backup failed its check; nothing was touched.</summary>
    public const int BackupUnusable = 3;

    /// <summary>A service holds the database (it is running); nothing was touched.</summary>
    public const int DatabaseInUse = 4;
}

/// <summary>What to restore: the database file, where its backups are, and optionally which backup.</summary>
/// <param name="Command">The command's name, prefixed to every line it prints.</param>
/// <param name="AfterRestore">What the operator does next, printed after a successful restore.</param>
public sealed record RestoreRequest(string Command, string DatabasePath, BackupFolder Backups, string? From, string AfterRestore);

/// <summary>
/// Puts a backup in place of a (damaged) SQLite database, for the services' restore commands. Refuses while a
/// service holds the database's <see cref="DatabaseFileLock"/>. The chosen backup is copied beside the database and
/// that copy must pass <c>PRAGMA quick_check</c>; the current file and its -wal/-shm are moved aside (never deleted)
/// to <c>{database}.damaged-{UTC time}</c> (-wal, -shm), then the copy is renamed into place. Any problem before the
/// rename leaves every file as it was; a failed rename puts the moved files back.
/// </summary>
public static class SqliteRestore
{
    private const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static int Run(RestoreRequest request, TimeProvider time, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        void Say(string line) => output.WriteLine($"{request.Command}: {line}");
        int Refuse(int code, string line)
        {
            error.WriteLine($"{request.Command}: {line} Nothing was changed.");
            return code;
        }

        if (DatabaseFileLock.LockingDisabled)
        {
            return Refuse(RestoreExitCodes.Usage,
                "file locking is switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING), so a running service cannot be detected. Unset it and run again.");
        }

        var database = Path.GetFullPath(request.DatabasePath);
        string? backup;
        if (request.From is { } from)
        {
            backup = Path.GetFullPath(from);
            if (!File.Exists(backup))
            {
                return Refuse(RestoreExitCodes.BackupUnusable, $"the backup {backup} does not exist.");
            }
        }
        else if ((backup = request.Backups.Newest()) is null)
        {
            return Refuse(RestoreExitCodes.BackupUnusable,
                $"there is no backup of {Path.GetFileName(database)} in {request.Backups.Folder} (files {request.Backups.DatabaseName}-<UTC time>.db). Name one with --from <file>.");
        }

        if (string.Equals(backup, database, StringComparison.Ordinal))
        {
            return Refuse(RestoreExitCodes.Usage, "--from names the database itself; name a backup file.");
        }

        using var hold = DatabaseFileLock.TryTakeExclusive(database, out var whyNot);
        if (hold is null)
        {
            return Refuse(RestoreExitCodes.DatabaseInUse,
                $"refusing to restore while a service is running on {database}: it holds {DatabaseFileLock.PathFor(database)} ({whyNot}). " +
                "Stop every process of the service, then run the command again.");
        }

        var folder = Path.GetDirectoryName(database)!;
        var temp = Path.Combine(folder, $".{Path.GetFileName(database)}.restore-{Guid.NewGuid():N}.tmp");
        var moved = new List<(string From, string To)>();
        try
        {
            // The copy beside the database is what gets renamed into place, so the copy is what is checked.
            File.Copy(backup, temp);
            var (check, schemaVersion) = Verify(temp);
            if (!check.Ok)
            {
                return Refuse(RestoreExitCodes.BackupUnusable,
                    $"the backup {backup} failed PRAGMA quick_check ({check.Summary}); it is not used. Pick another backup with --from <file>.");
            }

            BackupFolder.FlushToDisk(temp);
            Say($"backup {backup} ({new FileInfo(temp).Length.ToString(CultureInfo.InvariantCulture)} bytes, schema version {schemaVersion}) passed PRAGMA quick_check");

            var aside = AsidePath(database, time.GetUtcNow());
            // The -wal and -shm first: a WAL left beside a database it does not belong to could be replayed into it.
            foreach (var suffix in BackupFolder.SidecarSuffixes.Append(""))
            {
                if (File.Exists(database + suffix))
                {
                    File.Move(database + suffix, aside + suffix);
                    moved.Add((database + suffix, aside + suffix));
                }
            }

            File.Move(temp, database, overwrite: false);
            Say(moved.Count == 0
                ? $"there was no database at {database}"
                : $"moved the current database aside (kept, not deleted): {string.Join(", ", moved.Select(m => $"{Path.GetFileName(m.From)} -> {m.To}"))}");
            Say($"restored {database} from {backup}");
            Say(request.AfterRestore);
            return RestoreExitCodes.Restored;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var putBack = PutBack(moved, error, request.Command);
            error.WriteLine($"{request.Command}: the restore failed: {ex.Message}. " +
                            (putBack ? "Every file is as it was." : "Some files could not be put back; see the lines above."));
            return RestoreExitCodes.Failed;
        }
        finally
        {
            BackupFolder.DeleteWithSidecars(temp);
        }
    }

    /// <summary>quick_check and the schema version (<c>PRAGMA user_version</c>) of a copy; an unreadable file is a failed check.</summary>
    private static (IntegrityReport Check, string SchemaVersion) Verify(string path)
    {
        try
        {
            using var connection = SqliteIntegrity.Open(path);
            var check = SqliteIntegrity.QuickCheck(connection);
            return (check, check.Ok ? SqliteIntegrity.Scalar(connection, "PRAGMA user_version;") ?? "?" : "?");
        }
        catch (SqliteException ex)
        {
            return (new IntegrityReport(false, true, [ex.Message]), "?");
        }
    }

    /// <summary><c>{database}.damaged-{UTC time}</c>, with a counter when a restore in the same second already used it.</summary>
    private static string AsidePath(string database, DateTimeOffset now)
    {
        var stem = $"{database}.damaged-{now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture)}";
        var candidate = stem;
        for (var n = 2; BackupFolder.SidecarSuffixes.Append("").Any(s => File.Exists(candidate + s)); n++)
        {
            candidate = $"{stem}-{n.ToString(CultureInfo.InvariantCulture)}";
        }

        return candidate;
    }

    private static bool PutBack(List<(string From, string To)> moved, TextWriter error, string command)
    {
        var all = true;
        foreach (var (from, to) in Enumerable.Reverse(moved))
        {
            try
            {
                File.Move(to, from, overwrite: false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                all = false;
                error.WriteLine($"{command}: could not move {to} back to {from}: {ex.Message}");
            }
        }

        return all;
    }
}
