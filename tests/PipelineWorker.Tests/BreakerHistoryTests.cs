using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Suite.PipelineWorker.Engines;
using Suite.ServiceDefaults.Resilience;

namespace Suite.PipelineWorker.Tests;

/// <summary>The breakers' transition history (diagnostics, readiness details) is bounded in size and in time (Req PERF-3).</summary>
public sealed class BreakerHistoryTests
{
    [Fact]
    [Trait("Req", "PERF-3")]
    public async Task The_transition_history_keeps_at_most_its_length_and_forgets_what_is_older_than_its_retention()
    {
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var time = new ManualTime();
        var breakers = new CircuitBreakerStates(new ResilienceMetrics(services.GetRequiredService<IMeterFactory>()), time, NullLogger<CircuitBreakerStates>.Instance);
        breakers.Register(EngineBreakers.Ocr);

        // A flapping engine: far more transitions than the history holds.
        for (var i = 0; i < 3 * CircuitBreakerStates.HistoryLength; i++)
        {
            breakers.Opened(EngineBreakers.Ocr, TimeSpan.FromSeconds(1));
            time.Advance(TimeSpan.FromSeconds(1));
            breakers.HalfOpened(EngineBreakers.Ocr);
            breakers.Closed(EngineBreakers.Ocr);
        }

        var history = breakers.History;
        Assert.Equal(CircuitBreakerStates.HistoryLength, history.Count);
        Assert.Equal(BreakerState.Closed, history[^1].State);
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.Since <= p.Second.Since), "oldest first, the newest kept");

        // Nothing happens for longer than the retention: the history empties by itself; the current state stays.
        time.Advance(CircuitBreakerStates.HistoryRetention + TimeSpan.FromSeconds(1));
        Assert.Empty(breakers.History);
        Assert.Equal(BreakerState.Closed, breakers.StateOf(EngineBreakers.Ocr));

        breakers.Opened(EngineBreakers.Ocr, TimeSpan.FromSeconds(30));
        Assert.Equal(BreakerState.Open, Assert.Single(breakers.History).State);
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
