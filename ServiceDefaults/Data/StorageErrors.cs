using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// File-system failures that mean the storage itself cannot take writes (full, read-only, failing), as opposed to an
/// operation's own mistake (a file not found): .NET on Unix reports the errno as the IOException's HResult.
/// </summary>
public static class StorageErrors
{
    private const int Eio = 5;                   // I/O error
    private const int Enospc = 28;               // no space left on device
    private const int Erofs = 30;                // read-only file system
    private const int Estale = 116;              // stale file handle (network storage gone)
    private const int Edquot = 122;              // quota exceeded
    private const int DiskFullWindows = unchecked((int)0x80070070);
    private const int HandleDiskFullWindows = unchecked((int)0x80070027);

    /// <summary>The disk (or quota) is full: an IOException with ENOSPC/EDQUOT, or SQLITE_FULL.</summary>
    public static bool IsDiskFull(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: var code } => (code & 0xFF) == SqliteErrors.Full,
        IOException io => io.HResult is Enospc or Edquot or DiskFullWindows or HandleDiskFullWindows,
        _ => false,
    };

    /// <summary>The storage refuses writes: full, read-only, failing, gone, or not permitted.</summary>
    public static bool IsUnwritable(Exception exception) => exception switch
    {
        UnauthorizedAccessException => true,
        IOException io => IsDiskFull(io) || io.HResult is Eio or Erofs or Estale,
        _ => false,
    };
}
