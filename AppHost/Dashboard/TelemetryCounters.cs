namespace Suite.AppHost.Dashboard;

/// <summary>What the OTLP/HTTP receiver got, per signal. Decoding the payloads is a later issue.</summary>
internal sealed class TelemetryCounters
{
    public static readonly IReadOnlyList<string> Signals = ["traces", "metrics", "logs"];

    private readonly Dictionary<string, Counter> _counters = Signals.ToDictionary(s => s, _ => new Counter());

    public bool IsSignal(string signal) => _counters.ContainsKey(signal);

    public void Record(string signal, long bytes)
    {
        var counter = _counters[signal];
        Interlocked.Increment(ref counter.Requests);
        Interlocked.Add(ref counter.Bytes, bytes);
        Interlocked.Exchange(ref counter.LastTicks, DateTimeOffset.UtcNow.UtcTicks);
    }

    public TelemetrySummary Snapshot() => new(
        "Telemetry is received (OTLP/HTTP protobuf) and counted; decoding and showing traces, metrics and logs is a later issue.",
        _counters.ToDictionary(
            c => c.Key,
            c =>
            {
                var last = Interlocked.Read(ref c.Value.LastTicks);
                return new SignalSummary(
                    Interlocked.Read(ref c.Value.Requests),
                    Interlocked.Read(ref c.Value.Bytes),
                    last == 0 ? null : new DateTimeOffset(last, TimeSpan.Zero));
            }));

    private sealed class Counter
    {
        // Fields, so that Interlocked can update them.
        public long Requests;
        public long Bytes;
        public long LastTicks;
    }
}

internal sealed record SignalSummary(long Requests, long Bytes, DateTimeOffset? LastReceivedAt);

internal sealed record TelemetrySummary(string Note, IReadOnlyDictionary<string, SignalSummary> Signals);
