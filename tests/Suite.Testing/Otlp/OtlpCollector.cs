using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Suite.Testing.Otlp;

/// <summary>
/// An OTLP/HTTP (protobuf) collector inside a test: Kestrel on 127.0.0.1 at a free port, accepting POSTs on
/// <c>/v1/traces</c>, <c>/v1/logs</c> and <c>/v1/metrics</c> and keeping what it received in memory.
/// <code>
/// await using var collector = await OtlpCollector.StartAsync();
/// // a service: OTEL_EXPORTER_OTLP_ENDPOINT = collector.Endpoint, OTEL_EXPORTER_OTLP_PROTOCOL = http/protobuf
/// //            (collector.EnvironmentFor("ingest") gives both, the service name and short export delays)
/// var spans = await collector.WaitForSpansAsync(s => s.Any(x => x.Name == "send suite:jobs"), TimeSpan.FromSeconds(30));
/// var trace = collector.SpansOfTrace(spans[0].TraceId);
/// </code>
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CollectedSpan> _spans = new();
    private readonly ConcurrentQueue<CollectedLogRecord> _logs = new();
    private readonly ConcurrentQueue<CollectedMetric> _metrics = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private int _requests;

    private OtlpCollector(WebApplication app) => _app = app;

    /// <summary>Base address for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters append /v1/traces etc.).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Export requests received (all signals).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public IReadOnlyList<CollectedSpan> Spans => [.. _spans];

    public IReadOnlyList<CollectedLogRecord> LogRecords => [.. _logs];

    /// <summary>Metric streams in the order received (a cumulative metric appears once per export).</summary>
    public IReadOnlyList<CollectedMetric> Metrics => [.. _metrics];

    /// <summary>Requests the collector could not decode (should stay empty).</summary>
    public IReadOnlyList<string> Errors => [.. _errors];

    public static async Task<OtlpCollector> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", context => collector.ReceiveAsync(context, body => Add(collector._spans, OtlpDecoder.Traces(body))));
        app.MapPost("/v1/logs", context => collector.ReceiveAsync(context, body => Add(collector._logs, OtlpDecoder.Logs(body))));
        app.MapPost("/v1/metrics", context => collector.ReceiveAsync(context, body => Add(collector._metrics, OtlpDecoder.Metrics(body))));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        collector.Endpoint = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return collector;
    }

    /// <summary>
    /// Environment variables that point a service at this collector: endpoint, http/protobuf, the service name, and
    /// export delays short enough for a test (spans and logs every 200 ms, metrics every second).
    /// </summary>
    public IReadOnlyDictionary<string, string> EnvironmentFor(string serviceName) => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_SERVICE_NAME"] = serviceName,
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    /// <summary>The spans of one trace (trace id in lowercase hex), in the order received.</summary>
    public IReadOnlyList<CollectedSpan> SpansOfTrace(string traceId) =>
        _spans.Where(s => string.Equals(s.TraceId, traceId, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>Every trace received: trace id → its spans.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<CollectedSpan>> Traces() =>
        _spans.GroupBy(s => s.TraceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<CollectedSpan>)g.ToList(), StringComparer.Ordinal);

    /// <summary>The log records of one service (by the resource's service.name).</summary>
    public IReadOnlyList<CollectedLogRecord> LogRecordsOf(string serviceName) =>
        _logs.Where(l => string.Equals(l.ServiceName, serviceName, StringComparison.Ordinal)).ToList();

    /// <summary>The latest data points of a metric by name (from the last export that had it).</summary>
    public CollectedMetric? LatestMetric(string name, string? serviceName = null) =>
        _metrics.LastOrDefault(m => m.Name == name && (serviceName is null || m.ServiceName == serviceName));

    /// <summary>Polls (bounded) until the spans received satisfy <paramref name="condition"/>; returns them.</summary>
    public async Task<IReadOnlyList<CollectedSpan>> WaitForSpansAsync(Func<IReadOnlyList<CollectedSpan>, bool> condition, TimeSpan timeout, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        IReadOnlyList<CollectedSpan> spans = [];
        try
        {
            await Eventually.UntilAsync(() => condition(spans = Spans), timeout, what ?? "the collector received the expected spans");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(
                $"{ex.Message}. Received {spans.Count} spans:\n  " + string.Join("\n  ", spans) +
                (_errors.IsEmpty ? "" : "\nRequests the collector could not decode:\n  " + string.Join("\n  ", _errors)), ex);
        }

        return spans;
    }

    /// <summary>Polls (bounded) until the log records received satisfy <paramref name="condition"/>; returns them.</summary>
    public async Task<IReadOnlyList<CollectedLogRecord>> WaitForLogsAsync(Func<IReadOnlyList<CollectedLogRecord>, bool> condition, TimeSpan timeout, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        IReadOnlyList<CollectedLogRecord> logs = [];
        await Eventually.UntilAsync(() => condition(logs = LogRecords), timeout, what ?? "the collector received the expected log records");
        return logs;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext context, Action<byte[]> decode)
    {
        Interlocked.Increment(ref _requests);
        Stream body = context.Request.Body;
        if (string.Equals(context.Request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            body = new GZipStream(body, CompressionMode.Decompress);
        }

        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, context.RequestAborted);
        if (context.Request.ContentType?.StartsWith("application/x-protobuf", StringComparison.OrdinalIgnoreCase) != true)
        {
            _errors.Enqueue($"{context.Request.Path}: content type {context.Request.ContentType} (only http/protobuf is understood)");
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        try
        {
            decode(buffer.ToArray());
        }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException or InvalidCastException or ArgumentException)
        {
            _errors.Enqueue($"{context.Request.Path}: {ex.Message}");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // An empty Export*ServiceResponse: full success.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
    }

    private static void Add<T>(ConcurrentQueue<T> into, IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            into.Enqueue(item);
        }
    }
}
