using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Resilience;

/// <summary>Circuit breaker states, as the gauge reports them.</summary>
public enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>One breaker's state since a moment; <see cref="OpenUntil"/> is when an open breaker lets a probe through.</summary>
public sealed record BreakerSnapshot(string Dependency, BreakerState State, DateTimeOffset Since, DateTimeOffset? OpenUntil)
{
    public string StateName => NameOf(State);

    public static string NameOf(BreakerState state) => state switch
    {
        BreakerState.Open => "open",
        BreakerState.HalfOpen => "half_open",
        _ => "closed",
    };
}

/// <summary>
/// The state of every circuit breaker of a service, one per dependency (Label Studio instance, vision model, OCR
/// engine, renderer), fed by the breakers' transition callbacks (Req CB-4): each transition is logged, counted
/// (<c>suite.circuit_breaker.transitions{dependency, state}</c>) and the state exported as the observable gauge
/// <c>suite.circuit_breaker.state{dependency}</c> (0 closed, 1 half-open, 2 open; meter <c>Suite.Resilience</c>), for
/// readiness details and for background work that should not even try while a breaker is open. An open breaker whose
/// break has elapsed is reported half-open: the next call is its probe.
/// </summary>
public sealed partial class CircuitBreakerStates
{
    public const string GaugeName = "suite.circuit_breaker.state";

    /// <summary>Transitions the history keeps at most (Req PERF-3: bounded in size)...</summary>
    public const int HistoryLength = 64;

    /// <summary>...and for how long (bounded in time): older transitions are dropped.</summary>
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromHours(1);

    // Bounded by construction: one entry per dependency, and dependencies are fixed names in code (renderer, ocr,
    // vision, clamav) or one per configured Label Studio instance (its requests are relative to LabelStudio:Url).
    private readonly ConcurrentDictionary<string, BreakerSnapshot> _states = new(StringComparer.Ordinal);
    private readonly Queue<BreakerSnapshot> _history = new();
    private readonly ResilienceMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<CircuitBreakerStates> _logger;

    public CircuitBreakerStates(ResilienceMetrics metrics, TimeProvider time, ILogger<CircuitBreakerStates> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
        _time = time;
        _logger = logger;
        metrics.Meter.CreateObservableGauge(
            GaugeName,
            () => Snapshot().Select(s => new Measurement<int>((int)s.State, new KeyValuePair<string, object?>("dependency", s.Dependency))),
            "{state}",
            "Circuit breaker state of each dependency: 0 closed, 1 half-open, 2 open");
    }

    /// <summary>The latest transitions, oldest first (diagnostics and tests): at most <see cref="HistoryLength"/>, none older than <see cref="HistoryRetention"/>.</summary>
    public IReadOnlyList<BreakerSnapshot> History
    {
        get
        {
            lock (_history)
            {
                Trim();
                return [.. _history];
            }
        }
    }

    /// <summary>Makes a breaker known (closed) before its first transition, so the gauge shows it from the start.</summary>
    public void Register(string dependency) =>
        _states.TryAdd(dependency, new BreakerSnapshot(dependency, BreakerState.Closed, _time.GetUtcNow(), null));

    public void Opened(string dependency, TimeSpan breakDuration)
    {
        var now = _time.GetUtcNow();
        Set(new BreakerSnapshot(dependency, BreakerState.Open, now, now + breakDuration));
        LogOpened(_logger, dependency, breakDuration.TotalSeconds, "open");
    }

    public void HalfOpened(string dependency)
    {
        Set(new BreakerSnapshot(dependency, BreakerState.HalfOpen, _time.GetUtcNow(), null));
        LogHalfOpened(_logger, dependency, "half_open");
    }

    public void Closed(string dependency)
    {
        Set(new BreakerSnapshot(dependency, BreakerState.Closed, _time.GetUtcNow(), null));
        LogClosed(_logger, dependency, "closed");
    }

    public BreakerState StateOf(string dependency) =>
        Snapshot().FirstOrDefault(s => string.Equals(s.Dependency, dependency, StringComparison.Ordinal))?.State ?? BreakerState.Closed;

    /// <summary>Every known breaker, ordered by dependency.</summary>
    public IReadOnlyList<BreakerSnapshot> Snapshot()
    {
        var now = _time.GetUtcNow();
        return _states.Values
            .Select(s => s is { State: BreakerState.Open, OpenUntil: { } until } && now >= until ? s with { State = BreakerState.HalfOpen } : s)
            .OrderBy(s => s.Dependency, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The time until which some breaker (of those <paramref name="dependencies"/> selects) is open, if any is.</summary>
    public DateTimeOffset? OpenUntil(Func<string, bool>? dependencies = null) =>
        Snapshot().Where(s => s.State == BreakerState.Open && (dependencies?.Invoke(s.Dependency) ?? true)).Select(s => s.OpenUntil).Max();

    private void Set(BreakerSnapshot snapshot)
    {
        _states[snapshot.Dependency] = snapshot;
        lock (_history)
        {
            _history.Enqueue(snapshot);
            Trim();
        }

        _metrics.Transition(snapshot.Dependency, snapshot.StateName);
    }

    /// <summary>Drops what is over the length or past the retention (under the history's lock).</summary>
    private void Trim()
    {
        var oldest = _time.GetUtcNow() - HistoryRetention;
        while (_history.Count > 0 && (_history.Count > HistoryLength || _history.Peek().Since < oldest))
        {
            _history.Dequeue();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit breaker for {Dependency} OPENED for {BreakSeconds} s: calls fail fast ({BreakerState})")]
    private static partial void LogOpened(ILogger logger, string dependency, double breakSeconds, string breakerState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for {Dependency} HALF-OPEN: the next call probes ({BreakerState})")]
    private static partial void LogHalfOpened(ILogger logger, string dependency, string breakerState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for {Dependency} CLOSED: calls flow again ({BreakerState})")]
    private static partial void LogClosed(ILogger logger, string dependency, string breakerState);
}
