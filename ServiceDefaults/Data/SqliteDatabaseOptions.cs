namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Settings every SQLite database of the suite shares. Each service binds them under its own section (the catalog
/// under <c>Catalog</c>, the bridge's outbox under <c>Outbox</c>) and validates them at start-up
/// (<see cref="SqliteDatabaseOptionsValidation"/>).
/// </summary>
public class SqliteDatabaseOptions
{
    public const int MaxBusyTimeoutMilliseconds = 5000;
    public const int MaxCommandTimeoutSeconds = 10;

    /// <summary>How long SQLite itself waits for a lock (<c>PRAGMA busy_timeout</c>) before it reports busy.</summary>
    public int BusyTimeoutMilliseconds { get; set; } = MaxBusyTimeoutMilliseconds;

    /// <summary>
    /// The budget of one operation: waiting for a connection slot, waiting for locks and every busy retry together.
    /// When it is spent the operation fails as busy (an HTTP caller gets 503 with Retry-After).
    /// </summary>
    public int CommandTimeoutSeconds { get; set; } = MaxCommandTimeoutSeconds;

    /// <summary>Connections open at once (Microsoft.Data.Sqlite's own pool has no upper bound).</summary>
    public int MaxConnections { get; set; } = 16;

    /// <summary>Retries of a whole operation that failed with SQLITE_BUSY or SQLITE_LOCKED, within the budget.</summary>
    public int BusyRetryAttempts { get; set; } = 3;

    /// <summary>When repeated write failures put the database in read-only mode, and for how long.</summary>
    public WriteBreakerOptions WriteBreaker { get; set; } = new();
}

/// <summary>
/// The circuit breaker on writes (read-only mode): it opens when at least <see cref="FailureRatio"/> of the writes of
/// the last <see cref="SamplingDurationSeconds"/> failed for a reason waiting cannot fix (disk full, I/O error, read-only
/// or vanished file), once at least <see cref="MinimumThroughput"/> writes were tried; after
/// <see cref="BreakDurationSeconds"/> the next write probes.
/// </summary>
public sealed class WriteBreakerOptions
{
    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 3;

    public double SamplingDurationSeconds { get; set; } = 10;

    public double BreakDurationSeconds { get; set; } = 15;
}
