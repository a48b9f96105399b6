using System.Collections.Concurrent;

namespace IngestService.Events;

/// <summary>
/// Wake-ups for the streams of this replica: a stream waits on its document's (or its client's) key; the pump sets
/// every waiter of a key when an event for it appears. A wake-up only says "look at the catalog again": the stream
/// reads what it has not delivered from there, so a lost or spurious wake-up costs a poll interval at most.
/// </summary>
internal sealed class EventSignals
{
    // Bounded by the open streams (Events:MaxConnections): a key lives while a stream waits on it, removed with its last one.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<WakeSignal, byte>> _waiters = new(StringComparer.Ordinal);

    public static string DocumentKey(string documentId) => "d:" + documentId;

    public static string ClientKey(string client) => "c:" + client;

    /// <summary>Registers a signal under <paramref name="key"/> until the returned handle is disposed.</summary>
    public IDisposable Subscribe(string key, WakeSignal signal)
    {
        var set = _waiters.GetOrAdd(key, _ => new ConcurrentDictionary<WakeSignal, byte>());
        set[signal] = 0;
        return new Subscription(this, key, signal);
    }

    public void Notify(string key)
    {
        if (_waiters.TryGetValue(key, out var set))
        {
            foreach (var signal in set.Keys)
            {
                signal.Set();
            }
        }
    }

    /// <summary>Wakes every stream (after a gap the pump cannot account for, e.g. a reconnect to Redis).</summary>
    public void NotifyAll()
    {
        foreach (var set in _waiters.Values)
        {
            foreach (var signal in set.Keys)
            {
                signal.Set();
            }
        }
    }

    private void Unsubscribe(string key, WakeSignal signal)
    {
        if (_waiters.TryGetValue(key, out var set))
        {
            set.TryRemove(signal, out _);
            if (set.IsEmpty)
            {
                // Removed only while still empty, so a subscriber that arrived meanwhile keeps its set.
                _waiters.TryRemove(new KeyValuePair<string, ConcurrentDictionary<WakeSignal, byte>>(key, set));
            }
        }
    }

    private sealed class Subscription(EventSignals owner, string key, WakeSignal signal) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(key, signal);
            }
        }
    }
}

/// <summary>
/// An auto-reset wake-up: <see cref="Set"/> completes the current wait (or the next one, if none is waiting);
/// <see cref="Reset"/> before looking at the catalog, then <see cref="WaitAsync"/>, so a set in between is never missed.
/// </summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _current).TrySetResult();

    public void Reset()
    {
        var current = Volatile.Read(ref _current);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }

    /// <summary>True when woken, false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Volatile.Read(ref _current).Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
