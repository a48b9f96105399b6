namespace LabelingBridge.LabelStudio;

/// <summary>
/// Exponential backoff with jitter and a cap (RTY-2), never shorter than a server's Retry-After (RTY-3).
/// Delay n (1-based) = min(cap, base * 2^(n-1)) scaled into [50 %, 100 %] by jitter, so retries of many clients
/// spread out while the cap still bounds every wait.
/// </summary>
public sealed class RetryBackoff(TimeSpan baseDelay, TimeSpan maxDelay, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    public TimeSpan BaseDelay { get; } = baseDelay;

    public TimeSpan MaxDelay { get; } = maxDelay;

    public TimeSpan DelayFor(int retry, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponent = Math.Min(retry - 1, 30);
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var jittered = TimeSpan.FromMilliseconds(ceiling * (0.5 + (0.5 * _random())));
        return retryAfter is { } after && after > jittered ? after : jittered;
    }
}
