using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Suite.PipelineWorker.Engines;

/// <summary>Circuit breaker states, as the metric reports them.</summary>
internal enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// The circuit breaker state of each optional dependency of the pipeline (<c>vision</c>, <c>renderer</c>, <c>ocr</c>),
/// fed by the breakers' transition callbacks: logged, exported as the observable gauge
/// <c>suite.dependency.breaker_state{dependency}</c> (0 closed, 1 half-open, 2 open; meter Suite.PipelineWorker) and
/// shown in readiness details (CB-2, CB-4). An open breaker whose break has elapsed is reported half-open: the next
/// call is its probe.
/// </summary>
internal sealed partial class DependencyBreakers
{
    public const string MeterName = "Suite.PipelineWorker";
    public const string GaugeName = "suite.dependency.breaker_state";

    private readonly ConcurrentDictionary<string, (BreakerState State, DateTimeOffset Since, DateTimeOffset? OpenUntil)> _states = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger<DependencyBreakers> _logger;

    public DependencyBreakers(IMeterFactory meterFactory, TimeProvider time, ILogger<DependencyBreakers> logger)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time;
        _logger = logger;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge(
            GaugeName,
            () => Snapshot().Select(s => new Measurement<int>((int)s.Value, new KeyValuePair<string, object?>("dependency", s.Key))),
            description: "Circuit breaker of each optional pipeline dependency (vision, renderer, ocr): 0 closed, 1 half-open, 2 open.");
    }

    public void Register(string dependency) => _states.TryAdd(dependency, (BreakerState.Closed, _time.GetUtcNow(), null));

    public void Opened(string dependency, TimeSpan breakDuration)
    {
        var now = _time.GetUtcNow();
        _states[dependency] = (BreakerState.Open, now, now + breakDuration);
        LogOpened(_logger, dependency, breakDuration.TotalSeconds);
    }

    public void HalfOpened(string dependency)
    {
        _states[dependency] = (BreakerState.HalfOpen, _time.GetUtcNow(), null);
        LogHalfOpened(_logger, dependency);
    }

    public void Closed(string dependency)
    {
        _states[dependency] = (BreakerState.Closed, _time.GetUtcNow(), null);
        LogClosed(_logger, dependency);
    }

    public BreakerState StateOf(string dependency) => Snapshot().GetValueOrDefault(dependency, BreakerState.Closed);

    public IReadOnlyDictionary<string, BreakerState> Snapshot()
    {
        var now = _time.GetUtcNow();
        return _states.ToDictionary(
            s => s.Key,
            s => s.Value is { State: BreakerState.Open, OpenUntil: { } until } && now >= until ? BreakerState.HalfOpen : s.Value.State,
            StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit breaker for {Dependency} OPENED for {BreakSeconds} s: calls fail fast")]
    private static partial void LogOpened(ILogger logger, string dependency, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for {Dependency} HALF-OPEN: the next call probes")]
    private static partial void LogHalfOpened(ILogger logger, string dependency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit breaker for {Dependency} CLOSED: calls flow again")]
    private static partial void LogClosed(ILogger logger, string dependency);
}
