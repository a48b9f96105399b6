using System.Diagnostics;
using System.Net;
using IngestService.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.Testing;
using Suite.Testing.Otlp;

namespace IngestService.Tests;

/// <summary>
/// IngestService's metrics as Prometheus scrapes them, and the trace of an upload through the Redis enqueue (also
/// when the sweeper adds the job later). Not parallel with other tests: span listeners are process-wide.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private RedisServer _redis = null!;
    private OtlpCollector _collector = null!;
    private IngestHost _host = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _collector = await OtlpCollector.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Queue:SweepIntervalSeconds"] = "1",
            ["Queue:EnqueueTimeoutMs"] = "500",
            ["Redis:ConnectTimeoutMs"] = "1000",
            ["Redis:CommandTimeoutMs"] = "1000",
            ["Ingest:MaxUploadBytes"] = IngestFixture.MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in _collector.EnvironmentFor("ingest"))
        {
            settings[key] = value;
        }

        _host = IngestHost.Create(_redis.ConnectionString, settings).Start();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _collector.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    [Trait("Req", "OBS-3")]
    [Trait("Req", "OBS-4")]
    [Trait("Req", "LS-7")]
    public async Task Metrics_are_scrapeable_in_Prometheus_format_with_queue_depth_errors_by_code_latency_and_thread_pool()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        await Eventually.UntilAsync(async () => (await redis.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs)).Length > 0, Wait, "the consumer group exists");
        // Three queued jobs (no worker runs here): two interactive, one batch; one in the retry set, one dead letter,
        // and one refused upload.
        await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "one.pdf");
        await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "two.pdf");
        await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "three.pdf", "priority=batch");
        await redis.GetDatabase().SortedSetAddAsync(JobStreams.Delayed, "{\"documentId\":\"later\"}", 1);
        await redis.GetDatabase().StreamAddAsync(JobStreams.DeadLetters, JobStreams.DocumentIdField, "dead");
        using (var refused = await Api.UploadAsync(_host.Client, "not a pdf"u8.ToArray(), "x.pdf"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        }

        var lines = await ScrapeAsync();

        // The stream gauges per priority (Req LS-2): the interactive stream and the batch stream.
        foreach (var (priority, jobs) in new[] { ("interactive", 2), ("batch", 1) })
        {
            var label = $"priority=\"{priority}\"";
            Assert.Equal(jobs, Value(lines, "suite_queue_length", label));
            Assert.Equal(jobs, Value(lines, "suite_queue_waiting", label));
            Assert.Equal(0, Value(lines, "suite_queue_pending", label));
            Assert.InRange(Value(lines, "suite_queue_oldest_age_seconds", label), 0, 60);
            Assert.Equal(0, Value(lines, "suite_queue_oldest_pending_age_seconds", label));
        }

        Assert.Equal(1, Value(lines, "suite_queue_retry_set_size"));
        Assert.Equal(1, Value(lines, "suite_queue_dead_letters"));
        Assert.Contains(lines, l => l.StartsWith("suite_http_problems_total{", StringComparison.Ordinal)
                                    && l.Contains("code=\"unsupported_format\"", StringComparison.Ordinal)
                                    && l.Contains("status=\"415\"", StringComparison.Ordinal)
                                    && l.Contains("kind=\"client\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal)
                                    && l.Contains("http_route=\"/api/documents", StringComparison.Ordinal));
        // The runtime's thread-pool queue length (an up-down counter: the exporter renders it with _total, yet it is a level).
        Assert.Contains(lines, l => l.StartsWith("dotnet_thread_pool_queue_length_total{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ingest_uploads_total{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ingest_enqueues_total{", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "OBS-2")]
    public async Task An_upload_and_its_Redis_enqueue_are_one_trace_and_the_job_carries_the_producer_span()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var traceId = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();

        var id = await UploadInTraceAsync(traceId, clientSpan, "traced.pdf");

        var entry = Assert.Single(await Api.JobEntriesAsync(redis, id));
        var traceParent = entry[JobStreams.TraceParentField].ToString();
        Assert.StartsWith($"00-{traceId}-", traceParent, StringComparison.Ordinal);
        // The server span ends after the producer span (with the response), so it may come in a later export batch.
        await _collector.WaitForSpansAsync(
            s => s.Any(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Producer)
                 && s.Any(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Server),
            Wait);
        var trace = _collector.SpansOfTrace(traceId.ToString());
        var server = Assert.Single(trace, s => s.Kind == OtlpSpanKind.Server);
        Assert.Equal(clientSpan.ToString(), server.ParentSpanId);
        Assert.Equal("ingest", server.ServiceName);
        var produce = Assert.Single(trace, s => s.Kind == OtlpSpanKind.Producer);
        Assert.Equal("send " + JobStreams.Jobs, produce.Name);
        Assert.Equal(server.SpanId, produce.ParentSpanId);
        Assert.Equal("redis", produce.Attribute("messaging.system"));
        Assert.Equal(JobStreams.Jobs, produce.Attribute("messaging.destination.name"));
        Assert.Equal(entry.Id.ToString(), produce.Attribute("messaging.message.id"));
        Assert.Equal($"00-{traceId}-{produce.SpanId}-01", traceParent);
    }

    [Fact]
    [Trait("Req", "OBS-2")]
    [Trait("Req", "JOB-7")]
    public async Task A_job_the_sweeper_adds_after_a_Redis_outage_continues_the_uploads_trace()
    {
        await using (var probe = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            await Eventually.UntilAsync(async () => (await probe.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs)).Length > 0, Wait, "the consumer group exists");
        }

        var traceId = ActivityTraceId.CreateRandom();
        _redis.Kill();
        var id = await UploadInTraceAsync(traceId, ActivitySpanId.CreateRandom(), "outage.pdf");
        await _redis.StartProcessAsync();

        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(redis, id)).Length == 1, Wait, "the sweeper adds the job once Redis is back");
        var traceParent = Assert.Single(await Api.JobEntriesAsync(redis, id))[JobStreams.TraceParentField].ToString();
        Assert.StartsWith($"00-{traceId}-", traceParent, StringComparison.Ordinal);

        var spans = await _collector.WaitForSpansAsync(
            s => s.Any(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Producer && x.Attribute("suite.job.origin") == "sweeper"), Wait);
        var server = Assert.Single(_collector.SpansOfTrace(traceId.ToString()), s => s.Kind == OtlpSpanKind.Server);
        var sweep = Assert.Single(_collector.SpansOfTrace(traceId.ToString()), s => s.Attribute("suite.job.origin") == "sweeper" && s.Attribute("messaging.message.id") is not null);
        Assert.Equal(server.SpanId, sweep.ParentSpanId);
        Assert.NotEmpty(spans);
    }

    private async Task<string> UploadInTraceAsync(ActivityTraceId traceId, ActivitySpanId parent, string fileName)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Api.MinimalPdf);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", fileName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/documents") { Content = form };
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{parent}-01");
        using var response = await _host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
    }

    private async Task<IReadOnlyList<string>> ScrapeAsync()
    {
        using var response = await _host.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        if (Environment.GetEnvironmentVariable("SUITE_DUMP_METRICS") is { Length: > 0 } dump)
        {
            await File.WriteAllTextAsync(dump, text);
        }

        return text.Split('\n');
    }

    /// <summary>The value of an unlabelled-by-us metric line (the exporter may add scope labels).</summary>
    private static double Value(IReadOnlyList<string> lines, string name, string? label = null)
    {
        var line = lines.FirstOrDefault(l => (l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
                                             && (label is null || l.Contains(label, StringComparison.Ordinal)))
            ?? throw new Xunit.Sdk.XunitException($"no metric {name} in the scrape:\n" + string.Join("\n", lines.Where(l => l.StartsWith("suite_", StringComparison.Ordinal))));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Tests that measure the whole process: metric values (OpenTelemetry subscribes to meters by name across the process,
/// so a host started by a test running in parallel would feed the same instruments) and allocated bytes. They run
/// alone, after the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
