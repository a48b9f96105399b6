using System.Globalization;

namespace Suite.ServiceDefaults.Data;

/// <summary>One finished backup file.</summary>
public sealed record BackupFile(string Path, string FileName, long SizeBytes, DateTimeOffset TakenAt);

/// <summary>
/// The files of one database in a backup folder: <c>{name}-{UTC yyyyMMddTHHmmssZ}.db</c>, so that name order is time
/// order, and temp files <c>.{name}-{time}.{random}.tmp</c> (hidden, never matching the backup pattern) that become a
/// backup only by an atomic rename once they are complete and verified.
/// </summary>
public sealed class BackupFolder(string folder, string databaseName)
{
    private const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";
    private const string TempSuffix = ".tmp";

    /// <summary>What SQLite may create beside a database file while it is open.</summary>
    public static readonly string[] SidecarSuffixes = ["-journal", "-wal", "-shm"];

    public string Folder { get; } = folder;

    public string DatabaseName { get; } = databaseName;

    public string PathFor(DateTimeOffset takenAt) =>
        Path.Combine(Folder, $"{DatabaseName}-{takenAt.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture)}.db");

    public string NewTempPath(DateTimeOffset takenAt) =>
        Path.Combine(Folder, $".{DatabaseName}-{takenAt.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture)}.{Guid.NewGuid():N}{TempSuffix}");

    /// <summary>This database's backups, newest first (an absent folder has none).</summary>
    public IReadOnlyList<string> Backups()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(Folder, DatabaseName + "-*.db")
            .Where(path => TakenAt(Path.GetFileName(path)) is not null)
            .OrderByDescending(path => Path.GetFileName(path), StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The newest backup, or null.</summary>
    public string? Newest() => Backups().FirstOrDefault();

    /// <summary>The time in a backup's file name, or null when the name is not one of this database's backups.</summary>
    public DateTimeOffset? TakenAt(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var prefix = DatabaseName + "-";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(".db", StringComparison.Ordinal))
        {
            return null;
        }

        var stamp = fileName[prefix.Length..^3];
        return DateTimeOffset.TryParseExact(stamp, StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
    }

    /// <summary>Deletes all but the newest <paramref name="retain"/> backups and returns the deleted paths.</summary>
    public IReadOnlyList<string> Prune(int retain)
    {
        var deleted = new List<string>();
        foreach (var old in Backups().Skip(Math.Max(1, retain)))
        {
            File.Delete(old);
            deleted.Add(old);
        }

        return deleted;
    }

    /// <summary>
    /// Deletes this database's temp files (and anything SQLite left beside them). Only called at start-up: the
    /// service is the single writer of its data folder, so a temp file then is the remains of a crash.
    /// </summary>
    public int RemoveStaleTemps()
    {
        if (!Directory.Exists(Folder))
        {
            return 0;
        }

        var removed = 0;
        foreach (var temp in Directory.GetFiles(Folder, $".{DatabaseName}-*{TempSuffix}*"))
        {
            removed += DeleteWithSidecars(temp);
        }

        return removed;
    }

    /// <summary>Deletes a file and SQLite's journal, WAL and shared-memory files beside it; returns how many existed.</summary>
    public static int DeleteWithSidecars(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var deleted = 0;
        foreach (var file in SidecarSuffixes.Select(suffix => path + suffix).Prepend(path))
        {
            try
            {
                if (File.Exists(file))
                {
                    File.Delete(file);
                    deleted++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort on a failure path: the start-up sweep removes it next time.
            }
        }

        return deleted;
    }

    /// <summary>Forces a file's bytes to disk (fsync), so that the rename that follows never publishes a half-written file.</summary>
    public static void FlushToDisk(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
    }
}
