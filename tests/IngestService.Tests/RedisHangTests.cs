using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using IngestService.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>
/// A Redis that accepts connections but never answers (redis-server paused with SIGSTOP) against ingest's two Redis
/// users outside the requests' own calls: the queue gauges (a Prometheus scrape) and the enqueue of an upload.
/// </summary>
public sealed class RedisHangTests : IAsyncLifetime
{
    private const int TimeoutMs = 1000;
    private Suite.Testing.RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await Suite.Testing.RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "TMO-5")]
    public async Task While_Redis_hangs_a_metrics_collection_waits_one_timeout_not_one_per_gauge_and_an_enqueue_gives_up_within_its_timeout()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { _redis.ConnectionString },
            AbortOnConnectFail = false,
            ConnectTimeout = 5000,
            SyncTimeout = 5000,
            AsyncTimeout = 5000,
        });
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new QueueOptions { MetricsTimeoutMs = TimeoutMs, EnqueueTimeoutMs = TimeoutMs });
        var meters = services.GetRequiredService<IMeterFactory>();
        _ = new QueueMetrics(mux, meters, TimeProvider.System, options);
        using var queue = new JobQueue(mux, options, TimeProvider.System, NullLogger<JobQueue>.Instance);
        Assert.True(await queue.EnsureGroupAsync(CancellationToken.None));

        var measurements = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's gauges only: other tests' hosts in the process have meters of the same name.
            if (instrument.Meter.Name == QueueMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
        listener.Start();
        // Bounded poll: a first reading slower than the timeout on a busy machine is a failed one, kept for a second.
        await Suite.Testing.Eventually.UntilAsync(() => Collect(listener, ref measurements) > 0,
            TimeSpan.FromSeconds(30), "the gauges report while Redis answers", TimeSpan.FromMilliseconds(250));

        await SignalAsync("STOP");
        try
        {
            // The reading taken above is served for a second: let it expire (a known duration, not a wait for a condition).
            await Task.Delay(TimeSpan.FromMilliseconds(1100));
            measurements = 0;
            var clock = Stopwatch.StartNew();
            listener.RecordObservableInstruments();
            var collection = clock.Elapsed;
            Assert.Equal(0, measurements);
            // Seven gauges share one reading: one timeout, where each gauge waiting its own made it seven.
            Assert.True(collection < TimeSpan.FromMilliseconds(2.5 * TimeoutMs), $"one collection took {collection.TotalMilliseconds:F0} ms while Redis hung (timeout {TimeoutMs} ms)");

            clock.Restart();
            var entry = await queue.TryEnqueueAsync("doc-while-redis-hangs", JobPriority.Interactive, "test", CancellationToken.None);
            var enqueue = clock.Elapsed;
            Assert.Null(entry);
            Assert.True(enqueue < TimeSpan.FromMilliseconds(2.5 * TimeoutMs), $"the enqueue gave up after {enqueue.TotalMilliseconds:F0} ms (timeout {TimeoutMs} ms)");
        }
        finally
        {
            await SignalAsync("CONT");
        }

        // Resumed: the gauges answer again once the failed reading has expired.
        await Suite.Testing.Eventually.UntilAsync(() => Collect(listener, ref measurements) > 0,
            TimeSpan.FromSeconds(30), "the gauges report again after Redis resumed", TimeSpan.FromMilliseconds(250));
    }

    /// <summary>One collection of the gauges; returns how many measurements it gave.</summary>
    private static int Collect(MeterListener listener, ref int measurements)
    {
        Interlocked.Exchange(ref measurements, 0);
        listener.RecordObservableInstruments();
        return Volatile.Read(ref measurements);
    }

    private async Task SignalAsync(string signal)
    {
        var pid = _redis.ProcessId ?? throw new InvalidOperationException("redis-server is not running");
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }
}
