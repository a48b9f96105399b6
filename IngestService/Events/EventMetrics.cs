using System.Diagnostics.Metrics;

namespace IngestService.Events;

/// <summary>
/// The streams' metrics (meter <c>Suite.Events</c>), each with the attribute <c>protocol</c> (<c>sse</c>, <c>websocket</c>):
/// <list type="bullet">
/// <item><c>suite.events.connections</c>: streams open now (also <c>feed</c>: <c>document</c> or <c>client</c>);</item>
/// <item><c>suite.events.dropped</c>: streams the server ended on a client's behalf, by <c>reason</c>:
/// <c>slow_consumer</c> (its buffer filled or a write blocked past Events:SendTimeoutSeconds), <c>dead_peer</c> (no Pong
/// within the heartbeat timeout, or the connection broke);</item>
/// <item><c>suite.events.closed</c>: every stream that ended, by <c>reason</c> (<c>end</c>, <c>client_closed</c>,
/// <c>shutdown</c>, <c>slow_consumer</c>, <c>dead_peer</c>, <c>error</c>);</item>
/// <item><c>suite.events.delivered</c>: events written to clients;</item>
/// <item><c>suite.events.lag</c> (ms): from an event's time to its write to a live client (replays are not counted).</item>
/// </list>
/// </summary>
internal sealed class EventMetrics
{
    public const string MeterName = "Suite.Events";

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _delivered;
    private readonly Histogram<double> _lag;
    private long _open;

    public EventMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("suite.events.connections", "{connection}", "Event streams open now");
        _dropped = meter.CreateCounter<long>("suite.events.dropped", "{connection}", "Event streams dropped by the server (slow consumer, dead peer)");
        _closed = meter.CreateCounter<long>("suite.events.closed", "{connection}", "Event streams ended, by reason");
        _delivered = meter.CreateCounter<long>("suite.events.delivered", "{event}", "Events written to clients");
        _lag = meter.CreateHistogram<double>("suite.events.lag", "ms", "Time from an event to its write to a live client");
    }

    /// <summary>Streams open on this replica now.</summary>
    public long Open => Interlocked.Read(ref _open);

    public void Opened(string protocol, string feed)
    {
        Interlocked.Increment(ref _open);
        _connections.Add(1, Tag("protocol", protocol), Tag("feed", feed));
    }

    public void Closed(string protocol, string feed, string reason)
    {
        Interlocked.Decrement(ref _open);
        _connections.Add(-1, Tag("protocol", protocol), Tag("feed", feed));
        _closed.Add(1, Tag("protocol", protocol), Tag("reason", reason));
    }

    /// <summary>The server decided to drop a stream (counted then, before its close completes).</summary>
    public void Dropped(string protocol, string reason) => _dropped.Add(1, Tag("protocol", protocol), Tag("reason", reason));

    public void Delivered(string protocol, double? lagMs)
    {
        _delivered.Add(1, Tag("protocol", protocol));
        if (lagMs is { } lag)
        {
            _lag.Record(Math.Max(0, lag), Tag("protocol", protocol));
        }
    }

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}

/// <summary>Why a stream ended (metric attribute <c>reason</c>, and in the logs).</summary>
internal static class StreamCloseReasons
{
    /// <summary>The document is terminal and the stream said so (<c>end</c>).</summary>
    public const string End = "end";

    public const string ClientClosed = "client_closed";

    public const string Shutdown = "shutdown";

    public const string SlowConsumer = "slow_consumer";

    public const string DeadPeer = "dead_peer";

    public const string Error = "error";
}
