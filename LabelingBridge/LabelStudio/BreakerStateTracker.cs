using System.Collections.Concurrent;

namespace LabelingBridge.LabelStudio;

public enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

public sealed record BreakerSnapshot(string Instance, BreakerState State, DateTimeOffset Since, DateTimeOffset? OpenUntil)
{
    public string StateName => State switch
    {
        BreakerState.Open => "open",
        BreakerState.HalfOpen => "half_open",
        _ => "closed",
    };
}

/// <summary>
/// The circuit breaker state of each Label Studio instance, fed by the breaker's transition callbacks, for the
/// metric, readiness and the background services that should not even try while it is open (CB-4).
/// An open breaker whose break has elapsed is reported half-open: the next call is its probe.
/// </summary>
public sealed partial class BreakerStateTracker(ILogger<BreakerStateTracker> logger)
{
    private const int HistoryLength = 64;
    private readonly ConcurrentDictionary<string, BreakerSnapshot> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<BreakerSnapshot> _history = new();

    /// <summary>The latest transitions, oldest first (diagnostics and tests).</summary>
    public IReadOnlyList<BreakerSnapshot> History => [.. _history];

    public void Opened(string instance, DateTimeOffset now, TimeSpan breakDuration)
    {
        Set(new BreakerSnapshot(instance, BreakerState.Open, now, now + breakDuration));
        LogOpened(logger, instance, breakDuration.TotalSeconds);
    }

    public void HalfOpened(string instance, DateTimeOffset now)
    {
        Set(new BreakerSnapshot(instance, BreakerState.HalfOpen, now, null));
        LogHalfOpened(logger, instance);
    }

    public void Closed(string instance, DateTimeOffset now)
    {
        Set(new BreakerSnapshot(instance, BreakerState.Closed, now, null));
        LogClosed(logger, instance);
    }

    private void Set(BreakerSnapshot snapshot)
    {
        _states[snapshot.Instance] = snapshot;
        _history.Enqueue(snapshot);
        while (_history.Count > HistoryLength && _history.TryDequeue(out _))
        {
        }
    }

    public void Register(string instance, DateTimeOffset now) =>
        _states.TryAdd(instance, new BreakerSnapshot(instance, BreakerState.Closed, now, null));

    public IReadOnlyList<BreakerSnapshot> Snapshot(DateTimeOffset now) =>
        _states.Values.Select(s => s is { State: BreakerState.Open, OpenUntil: { } until } && now >= until
            ? s with { State = BreakerState.HalfOpen }
            : s).OrderBy(s => s.Instance, StringComparer.Ordinal).ToList();

    /// <summary>The time until which some breaker is open, if any is.</summary>
    public DateTimeOffset? OpenUntil(DateTimeOffset now) =>
        Snapshot(now).Where(s => s.State == BreakerState.Open).Select(s => s.OpenUntil).Max();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit breaker for Label Studio {Instance} OPENED for {BreakSeconds} s: calls fail fast")]
    private static partial void LogOpened(ILogger logger, string instance, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for Label Studio {Instance} HALF-OPEN: one probe call goes through")]
    private static partial void LogHalfOpened(ILogger logger, string instance);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for Label Studio {Instance} CLOSED: calls flow again")]
    private static partial void LogClosed(ILogger logger, string instance);
}
