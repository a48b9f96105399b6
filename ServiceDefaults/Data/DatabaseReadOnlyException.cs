using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// A write refused at once because the database is in read-only mode (its write breaker is open). It is a
/// <see cref="SqliteException"/> with code SQLITE_FULL when the cause is a full disk, else SQLITE_READONLY, so code that
/// already handles SQLite failures handles it too; HTTP layers map it to its own answer (503 read-only, 507 when full).
/// </summary>
public sealed class DatabaseReadOnlyException(ReadOnlyStatus status, TimeSpan retryAfter)
    : SqliteException(status.Describe(retryAfter), status.DiskFull ? SqliteErrors.Full : SqliteErrors.ReadOnly)
{
    public ReadOnlyStatus Status { get; } = status;

    /// <summary>Why writes failed, in words for a person ("the catalog's disk is full").</summary>
    public string Reason => Status.Reason;

    public bool DiskFull => Status.DiskFull;

    /// <summary>Until the next write probes whether writing works again; at least one second.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}
