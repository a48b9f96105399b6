using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Suite.Contracts;

namespace IngestService.Queue;

/// <summary>
/// Depth and lag of the work queue as observable gauges (meter <c>Suite.Queue</c>), read from Redis when the metrics
/// are collected (a Prometheus scrape, an OTLP export): one Lua script for all of them, bounded by
/// <c>Queue:MetricsTimeoutMs</c>, its answer shared by every gauge of the same collection (cached for a second). When
/// Redis does not answer in time the gauges report nothing for that collection and <c>suite.queue.read_failures</c>
/// counts it; a collection never waits longer than the timeout (Req OBS-3, LS-7). The first five are reported per jobs
/// stream, with the attribute <c>priority</c> (<c>interactive</c>: <c>suite:jobs</c>, <c>batch</c>: <c>suite:jobs:batch</c>;
/// Req LS-2): sum them for the whole queue.
/// <list type="bullet">
/// <item><c>suite.queue.length</c>: entries in the jobs stream (waiting + pending; acknowledged ones are deleted);</item>
/// <item><c>suite.queue.waiting</c>: entries not yet delivered to any worker (the consumer group's lag);</item>
/// <item><c>suite.queue.pending</c>: entries delivered and not yet acknowledged (in progress, or left by a dead worker);</item>
/// <item><c>suite.queue.oldest.age</c> (s): age of the oldest entry in the stream (0 when empty);</item>
/// <item><c>suite.queue.oldest_pending.age</c> (s): age of the oldest pending entry (0 when none);</item>
/// <item><c>suite.queue.retry_set.size</c>: jobs waiting for a retry after a transient failure;</item>
/// <item><c>suite.queue.dead_letters</c>: entries in the dead-letter stream.</item>
/// </list>
/// Every replica of the service reports the same values: aggregate them with max, not sum.
/// </summary>
internal sealed class QueueMetrics
{
    public const string MeterName = "Suite.Queue";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly Counter<long> _readFailures;
    private readonly Lock _gate = new();

    // Bounded by construction: one reading, kept for CacheFor.
    private (DateTimeOffset At, QueueSnapshot? Snapshot) _last;

    public QueueMetrics(IConnectionMultiplexer redis, IMeterFactory meterFactory, TimeProvider time, IOptions<QueueOptions> options)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _time = time;
        _timeout = TimeSpan.FromMilliseconds(options.Value.MetricsTimeoutMs);
        var meter = meterFactory.Create(MeterName);
        _readFailures = meter.CreateCounter<long>("suite.queue.read_failures", "{read}", "Collections for which Redis did not answer the queue gauges in time");
        StreamGauge(meter, "suite.queue.length", "{job}", "Entries in the jobs stream (waiting and pending)", s => s.Length);
        StreamGauge(meter, "suite.queue.waiting", "{job}", "Jobs not yet delivered to a worker (consumer group lag)", s => s.Waiting);
        StreamGauge(meter, "suite.queue.pending", "{job}", "Jobs delivered to a worker and not yet acknowledged", s => s.Pending);
        StreamGauge(meter, "suite.queue.oldest.age", "s", "Age of the oldest job in the stream", s => s.OldestAgeSeconds);
        StreamGauge(meter, "suite.queue.oldest_pending.age", "s", "Age of the oldest job delivered and not acknowledged", s => s.OldestPendingAgeSeconds);
        Gauge(meter, "suite.queue.retry_set.size", "{job}", "Jobs waiting in the retry set after a transient failure", s => s.RetrySet);
        Gauge(meter, "suite.queue.dead_letters", "{job}", "Entries in the dead-letter stream", s => s.DeadLetters);
    }

    /// <summary>
    /// The queue as Redis sees it now (or within the last second), or null when Redis did not answer in time. The
    /// reading is kept for a second from when it ended, so a failed one too: the gauges of one collection are read one
    /// after the other, and each would otherwise wait the whole timeout again (seven gauges, seven timeouts, while
    /// Redis hangs). A collection, and any concurrent one waiting on the lock, waits one timeout at most.
    /// </summary>
    public QueueSnapshot? Read()
    {
        lock (_gate)
        {
            if (_time.GetUtcNow() - _last.At < CacheFor)
            {
                return _last.Snapshot;
            }

            var snapshot = ReadFromRedis();
            _last = (_time.GetUtcNow(), snapshot);
            return snapshot;
        }
    }

    private QueueSnapshot? ReadFromRedis()
    {
        if (!_redis.IsConnected)
        {
            _readFailures.Add(1);
            return null;
        }

        try
        {
            var task = _redis.GetDatabase().ScriptEvaluateAsync(
                Script, [JobStreams.Delayed, JobStreams.DeadLetters, JobStreams.Jobs, JobStreams.BatchJobs], [JobStreams.ConsumerGroup]);
            // Collection callbacks are synchronous; the wait is bounded by the timeout.
            if (!task.Wait(_timeout))
            {
                _readFailures.Add(1);
                return null;
            }

            var values = (RedisResult[])task.Result!;
            var nowMs = ((long)values[2] * 1000) + ((long)values[3] / 1000);
            return new QueueSnapshot(Stream(values, 4, nowMs), Stream(values, 8, nowMs), (long)values[0], (long)values[1]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or AggregateException or InvalidCastException)
        {
            _readFailures.Add(1);
            return null;
        }
    }

    /// <summary>One stream's reading: length, pending, oldest pending id, oldest id from <paramref name="at"/> on.</summary>
    private static StreamSnapshot Stream(RedisResult[] values, int at, long nowMs)
    {
        var length = (long)values[at];
        var pending = (long)values[at + 1];
        return new StreamSnapshot(
            length,
            Math.Max(0, length - pending),
            pending,
            AgeSeconds(values[at + 3].ToString(), nowMs),
            AgeSeconds(values[at + 2].ToString(), nowMs));
    }

    /// <summary>Seconds since the time in a stream entry id ("ms-seq"), 0 for none.</summary>
    private static double AgeSeconds(string? entryId, long nowMs)
    {
        var dash = entryId?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (dash <= 0 || !long.TryParse(entryId.AsSpan(0, dash), System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            return 0;
        }

        return Math.Max(0, (nowMs - ms) / 1000.0);
    }

    private void Gauge(Meter meter, string name, string unit, string description, Func<QueueSnapshot, double> value) =>
        meter.CreateObservableGauge(name, () => Read() is { } s ? [new Measurement<double>(value(s))] : Array.Empty<Measurement<double>>(), unit, description);

    /// <summary>A gauge with one measurement per jobs stream, tagged with the stream's priority.</summary>
    private void StreamGauge(Meter meter, string name, string unit, string description, Func<StreamSnapshot, double> value) =>
        meter.CreateObservableGauge(name, () => Read() is { } s
            ?
            [
                new Measurement<double>(value(s.Interactive), new KeyValuePair<string, object?>("priority", JobPriority.Interactive)),
                new Measurement<double>(value(s.Batch), new KeyValuePair<string, object?>("priority", JobPriority.Batch)),
            ]
            : Array.Empty<Measurement<double>>(), unit, description);

    // KEYS: retry set, dead letters, then the jobs streams. ARGV: group. Returns: retry set size, dead letters, TIME
    // seconds, TIME microseconds, then per jobs stream: length, pending, oldest pending id, oldest id.
    private const string Script = """
        local t = redis.call('TIME')
        local out = {redis.call('ZCARD', KEYS[1]), redis.call('XLEN', KEYS[2]), tonumber(t[1]), tonumber(t[2])}
        for k = 3, #KEYS do
          local pending, oldestPending = 0, ''
          local ok, summary = pcall(redis.call, 'XPENDING', KEYS[k], ARGV[1])
          if ok and type(summary) == 'table' then
            pending = summary[1]
            if summary[2] then oldestPending = summary[2] end
          end
          local oldest = ''
          local first = redis.call('XRANGE', KEYS[k], '-', '+', 'COUNT', 1)
          if #first > 0 then oldest = first[1][1] end
          out[#out + 1] = redis.call('XLEN', KEYS[k])
          out[#out + 1] = pending
          out[#out + 1] = oldestPending
          out[#out + 1] = oldest
        end
        return out
        """;
}

/// <summary>One reading of the work queue: each jobs stream, the retry set and the dead letters.</summary>
internal sealed record QueueSnapshot(StreamSnapshot Interactive, StreamSnapshot Batch, long RetrySet, long DeadLetters)
{
    /// <summary>Entries in both jobs streams.</summary>
    public long Length => Interactive.Length + Batch.Length;

    /// <summary>Jobs of both priorities not yet delivered to a worker.</summary>
    public long Waiting => Interactive.Waiting + Batch.Waiting;

    public long Pending => Interactive.Pending + Batch.Pending;
}

/// <summary>One jobs stream: its entries (waiting + pending), and the age of its oldest entry and oldest pending one.</summary>
internal sealed record StreamSnapshot(long Length, long Waiting, long Pending, double OldestAgeSeconds, double OldestPendingAgeSeconds);
