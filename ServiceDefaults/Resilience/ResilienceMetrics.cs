using System.Diagnostics.Metrics;

namespace Suite.ServiceDefaults.Resilience;

/// <summary>
/// Retries and timeouts that do not go through a Polly pipeline (Polly's own are the <c>Polly</c> meter's
/// <c>resilience.polly.strategy.events</c>, labelled <c>event.name</c> = OnRetry, OnTimeout, OnCircuitOpened, ...).
/// Meter <c>Suite.Resilience</c>:
/// <list type="bullet">
/// <item><c>suite.retries{dependency, reason}</c>: a hand-rolled retry (SQLite BUSY, a job put back in the retry set);</item>
/// <item><c>suite.timeouts{dependency, operation}</c>: a hand-rolled timeout that expired (a stage, a subprocess);</item>
/// <item><c>suite.circuit_breaker.transitions{dependency, state}</c>: every breaker transition (see <see cref="CircuitBreakerStates"/>).</item>
/// </list>
/// </summary>
public sealed class ResilienceMetrics
{
    public const string MeterName = "Suite.Resilience";

    private readonly Counter<long> _retries;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _transitions;

    public ResilienceMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _retries = meter.CreateCounter<long>("suite.retries", "{retry}", "Retries outside Polly pipelines, by dependency and reason");
        _timeouts = meter.CreateCounter<long>("suite.timeouts", "{timeout}", "Timeouts outside Polly pipelines, by dependency and operation");
        _transitions = meter.CreateCounter<long>("suite.circuit_breaker.transitions", "{transition}", "Circuit breaker transitions, by dependency and the state entered");
        Meter = meter;
    }

    /// <summary>The meter, for other instruments of the same concern (the breaker gauge).</summary>
    internal Meter Meter { get; }

    public void Retry(string dependency, string reason) => _retries.Add(
        1, new KeyValuePair<string, object?>("dependency", dependency), new KeyValuePair<string, object?>("reason", reason));

    public void Timeout(string dependency, string operation) => _timeouts.Add(
        1, new KeyValuePair<string, object?>("dependency", dependency), new KeyValuePair<string, object?>("operation", operation));

    internal void Transition(string dependency, string state) => _transitions.Add(
        1, new KeyValuePair<string, object?>("dependency", dependency), new KeyValuePair<string, object?>("state", state));
}
