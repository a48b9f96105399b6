using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Suite.Testing;
using Suite.Testing.Otlp;

namespace Gateway.Tests;

/// <summary>
/// The gateway's own metrics and traces, and what of the other services' operations endpoints it does not expose.
/// Not run in parallel with other tests: span listeners are process-wide, so a concurrent test's requests would show
/// up in this test's exports.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static WebApplicationFactory<Program> GatewayFor(Uri ingest, IReadOnlyDictionary<string, string>? settings = null) =>
        TestGateway.Create([ingest], settings: settings);

    [Fact]
    [Trait("Req", "OBS-4")]
    [Trait("Req", "SEC-1")]
    public async Task Metrics_of_the_services_behind_the_gateway_are_not_reachable_through_it()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = GatewayFor(ingest.Url);
        using var client = gateway.CreateKeyedClient();

        // /metrics on the gateway is the gateway's own scrape endpoint, never forwarded.
        using var own = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await own.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.StartsWith("text/plain", own.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("# TYPE", text, StringComparison.Ordinal);

        foreach (var path in new[] { "/api/metrics", "/internal/metrics", "/api/documents/../../metrics", "/metrics/../api/x" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.NotEqual("ingest-0", response.Headers.TryGetValues("X-Backend", out var b) ? b.Single() : null);
        }

        Assert.DoesNotContain(ingest.Paths, p => p.Contains("metrics", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    [Trait("Req", "OBS-1")]
    [Trait("Req", "OBS-2")]
    [Trait("Req", "OBS-4")]
    public async Task The_gateway_exports_spans_and_logs_over_OTLP_and_passes_the_trace_on_to_the_service_it_forwards_to()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = GatewayFor(ingest.Url, collector.EnvironmentFor("gateway"));
        using var client = gateway.CreateKeyedClient();

        // The client's own trace context: the gateway continues it.
        var traceId = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{clientSpan}-01");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var spans = await collector.WaitForSpansAsync(
            s => s.Any(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Client)
                 && s.Any(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Server && x.ParentSpanId == clientSpan.ToString()),
            Wait,
            "the gateway's server and client spans (the server span ends last, possibly in a later export batch)");
        // (The recording backend runs in this process too, so its own server span is exported alongside.)
        var server = Assert.Single(collector.SpansOfTrace(traceId.ToString()), s => s.Kind == OtlpSpanKind.Server && s.ParentSpanId == clientSpan.ToString());
        Assert.Equal("gateway", server.ServiceName);
        Assert.Equal("/api/documents/{**rest}", server.Attribute("http.route"));
        var forward = Assert.Single(collector.SpansOfTrace(traceId.ToString()), s => s.Kind == OtlpSpanKind.Client);
        Assert.Equal(server.SpanId, forward.ParentSpanId);

        // The backend got the trace: same trace id, the forwarding span as parent.
        var forwarded = Assert.Single(ingest.TraceParents);
        Assert.Equal($"00-{traceId}-{forward.SpanId}-01", forwarded);
        Assert.Empty(collector.Errors);
        Assert.NotEmpty(spans);
    }

    [Fact]
    [Trait("Req", "TMO-7")]
    [Trait("Req", "OBS-1")]
    [Trait("Req", "OBS-3")]
    public async Task An_upstream_timeout_has_its_own_code_metric_label_and_log_field_carrying_the_trace_id()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        ingest.Hang = true;
        await using var gateway = GatewayFor(ingest.Url, new Dictionary<string, string>(collector.EnvironmentFor("gateway"))
        {
            ["ReverseProxy:Clusters:ingest:HttpRequest:ActivityTimeout"] = "00:00:01",
        });
        using var client = gateway.CreateKeyedClient();

        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("\"code\":\"upstream_timeout\"", body, StringComparison.Ordinal);

        // Metric label: the problem counter as Prometheus renders it.
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains(metrics.Split('\n'), line =>
            line.StartsWith("suite_http_problems_total{", StringComparison.Ordinal)
            && line.Contains("code=\"upstream_timeout\"", StringComparison.Ordinal)
            && line.Contains("kind=\"timeout\"", StringComparison.Ordinal)
            && line.Contains("status=\"504\"", StringComparison.Ordinal));

        // Log field: the structured record says ErrorKind=timeout, and carries the request's trace id.
        var logs = await collector.WaitForLogsAsync(
            l => l.Any(r => r.TraceId == traceId.ToString() && Equals(r.Attributes.GetValueOrDefault("ErrorKind"), "timeout")),
            Wait, "a log record with ErrorKind=timeout in the request's trace");
        Assert.NotEmpty(logs);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
