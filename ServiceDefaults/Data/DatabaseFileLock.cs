namespace Suite.ServiceDefaults.Data;

/// <summary>
/// The lock file beside a database (<c>{database}.lock</c>) that tells a restore whether a service has the database.
/// A running service holds it shared for its whole life (several replicas on one file can); the restore command
/// needs it exclusively and so refuses while any service holds it. SQLite's own locks cannot tell this: in WAL mode
/// an idle service holds none on the database file, and a service on a damaged file may never have opened it.
/// The lock is an advisory <c>flock</c>, which .NET takes on Unix for a <see cref="FileShare"/> of None
/// (exclusive) or anything else (shared); the operating system drops it when the process dies, even by kill -9.
/// </summary>
public sealed class DatabaseFileLock : IDisposable
{
    private readonly FileStream _file;

    private DatabaseFileLock(FileStream file, string path)
    {
        _file = file;
        Path = path;
    }

    /// <summary>The lock file's path.</summary>
    public string Path { get; }

    public static string PathFor(string databasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        return System.IO.Path.GetFullPath(databasePath) + ".lock";
    }

    /// <summary>
    /// Whether this process can take the lock at all: .NET skips file locks when told to
    /// (DOTNET_SYSTEM_IO_DISABLEFILELOCKING, System.IO.DisableFileLocking), and then no one can tell a running service.
    /// </summary>
    public static bool LockingDisabled =>
        (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var disabled) && disabled) ||
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is "1" or "true" or "True" or "TRUE";

    /// <summary>The service's hold: shared; null when someone holds it exclusively (a restore is running).</summary>
    public static DatabaseFileLock? TryTakeShared(string databasePath) =>
        TryTake(databasePath, FileAccess.Read, FileShare.ReadWrite, out _);

    /// <summary>The restore's hold: exclusive; null (with the reason) while any service holds it.</summary>
    public static DatabaseFileLock? TryTakeExclusive(string databasePath, out string? whyNot) =>
        TryTake(databasePath, FileAccess.ReadWrite, FileShare.None, out whyNot);

    private static DatabaseFileLock? TryTake(string databasePath, FileAccess access, FileShare share, out string? whyNot)
    {
        var path = PathFor(databasePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        try
        {
            whyNot = null;
            return new DatabaseFileLock(new FileStream(path, FileMode.OpenOrCreate, access, share), path);
        }
        catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            // EWOULDBLOCK from flock surfaces as a sharing violation.
            whyNot = ex.Message;
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}
