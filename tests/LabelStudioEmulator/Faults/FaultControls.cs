namespace LabelStudioEmulator.Faults;

/// <summary>
/// Failures the emulator injects on demand, so tests can make "Label Studio" go down, slow down, throttle,
/// fail, reject credentials or drop webhooks. All members are thread-safe.
/// </summary>
public sealed class FaultControls
{
    private volatile bool _down;
    private volatile bool _blackHole;
    private volatile bool _credentialsRevoked;
    private volatile bool _dropWebhooks;
    private long _latencyTicks;
    private int _serverErrorsRemaining;
    private int _serverErrorStatus = 500;
    private int _throttleRemaining;
    private int _throttleRetryAfterSeconds = 1;
    private int _importFailuresAfterCommit;

    /// <summary>Every connection is aborted without an answer (a crashed or unreachable server).</summary>
    public bool Down { get => _down; set => _down = value; }

    /// <summary>Requests are accepted and never answered.</summary>
    public bool BlackHole { get => _blackHole; set => _blackHole = value; }

    /// <summary>Every credential is refused (401) until restored, and refresh tokens cannot be exchanged.</summary>
    public bool CredentialsRevoked { get => _credentialsRevoked; set => _credentialsRevoked = value; }

    /// <summary>Webhooks are silently not sent (Label Studio delivers them at most once).</summary>
    public bool DropWebhooks { get => _dropWebhooks; set => _dropWebhooks = value; }

    /// <summary>Added before every answer.</summary>
    public TimeSpan Latency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _latencyTicks));
        set => Interlocked.Exchange(ref _latencyTicks, value.Ticks);
    }

    /// <summary>The next <paramref name="count"/> requests answer <paramref name="status"/> (a 5xx burst).</summary>
    public void ServerErrors(int count, int status = 500)
    {
        Volatile.Write(ref _serverErrorStatus, status);
        Volatile.Write(ref _serverErrorsRemaining, count);
    }

    /// <summary>The next <paramref name="count"/> requests answer 429 with Retry-After.</summary>
    public void Throttle(int count, int retryAfterSeconds)
    {
        Volatile.Write(ref _throttleRetryAfterSeconds, retryAfterSeconds);
        Volatile.Write(ref _throttleRemaining, count);
    }

    /// <summary>The next <paramref name="count"/> imports create their tasks and then answer 500 (the lost-response case).</summary>
    public void FailImportsAfterCommit(int count) => Volatile.Write(ref _importFailuresAfterCommit, count);

    public void Reset()
    {
        Down = false;
        BlackHole = false;
        CredentialsRevoked = false;
        DropWebhooks = false;
        Latency = TimeSpan.Zero;
        ServerErrors(0);
        Throttle(0, 1);
        FailImportsAfterCommit(0);
    }

    internal bool TryTakeServerError(out int status)
    {
        status = Volatile.Read(ref _serverErrorStatus);
        return TryTake(ref _serverErrorsRemaining);
    }

    internal bool TryTakeThrottle(out int retryAfterSeconds)
    {
        retryAfterSeconds = Volatile.Read(ref _throttleRetryAfterSeconds);
        return TryTake(ref _throttleRemaining);
    }

    internal bool TryTakeImportFailure() => TryTake(ref _importFailuresAfterCommit);

    private static bool TryTake(ref int counter)
    {
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
