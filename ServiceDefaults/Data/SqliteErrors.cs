using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>SQLite result codes the suite acts on, and which failures are contention and which mean writes cannot work.</summary>
public static class SqliteErrors
{
    public const int Busy = 5;
    public const int Locked = 6;
    public const int ReadOnly = 8;
    public const int IoError = 10;
    public const int Corrupt = 11;
    public const int Full = 13;
    public const int CantOpen = 14;
    public const int NotADatabase = 26;

    /// <summary>Contention: another writer holds the lock. Waiting (and retrying) can fix it.</summary>
    public static bool IsBusy(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) is Busy or Locked;

    /// <summary>
    /// A write failed for a reason waiting cannot fix: the disk is full, I/O failed, the file is read-only or cannot be
    /// opened (storage unmounted), or the file system refused a write the work did (<see cref="StorageErrors.IsUnwritable"/>).
    /// These open the write breaker (read-only mode); a constraint violation or a missing file does not.
    /// </summary>
    public static bool IsWriteFailure(Exception exception) => exception switch
    {
        DatabaseReadOnlyException => false,
        SqliteException { SqliteErrorCode: var code } => (code & 0xFF) is ReadOnly or IoError or Full or CantOpen,
        _ => StorageErrors.IsUnwritable(exception),
    };
}
