namespace IngestService.Webhooks;

/// <summary>
/// When a delivery's next round starts (Req RTY-2, RTY-3). Rounds are apart for longer than a process lives, so this
/// schedule is kept in the outbox row rather than in a Polly retry (which holds its state in memory); inside a round
/// Polly retries. Round n (1-based) waits min(cap, base * 2^(n-1)) scaled into [50 %, 100 %] by jitter, never less
/// than the receiver's Retry-After.
/// </summary>
internal static class WebhookBackoff
{
    public static TimeSpan Delay(int round, TimeSpan baseDelay, TimeSpan maxDelay, TimeSpan? retryAfter, double random)
    {
        var exponent = Math.Clamp(round - 1, 0, 30);
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var jittered = TimeSpan.FromMilliseconds(ceiling * (0.5 + (0.5 * random)));
        return retryAfter is { } after && after > jittered ? after : jittered;
    }
}
