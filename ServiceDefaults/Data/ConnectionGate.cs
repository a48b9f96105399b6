namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Bounds the connections of one database that are open at once (Req DB-6): Microsoft.Data.Sqlite's pool grows without
/// limit, so every open takes a slot here first and gives it back when the connection is closed. Also keeps the
/// counts the gauge and the tests read.
/// </summary>
internal sealed class ConnectionGate(int maxConnections) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(maxConnections, maxConnections);
    private int _open;
    private int _peak;

    public int MaxConnections { get; } = maxConnections;

    public int Open => Volatile.Read(ref _open);

    public int Peak => Volatile.Read(ref _peak);

    /// <summary>False when no slot became free within <paramref name="wait"/>.</summary>
    public async Task<bool> EnterAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!await _slots.WaitAsync(wait, cancellationToken))
        {
            return false;
        }

        var open = Interlocked.Increment(ref _open);
        for (var peak = Peak; open > peak && Interlocked.CompareExchange(ref _peak, open, peak) != peak; peak = Peak)
        {
        }

        return true;
    }

    public void Leave()
    {
        Interlocked.Decrement(ref _open);
        _slots.Release();
    }

    /// <summary>Starts a new peak from the current count (tests measure one phase).</summary>
    public void ResetPeak() => Interlocked.Exchange(ref _peak, Open);

    public void Dispose() => _slots.Dispose();
}
