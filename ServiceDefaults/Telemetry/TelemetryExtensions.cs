using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Suite.ServiceDefaults.Resilience;
using OpenTelemetry.Trace;

namespace Suite.ServiceDefaults.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>Prefix of every ActivitySource and Meter the suite's own code creates.</summary>
    public const string SuiteSourcePrefix = "Suite.";

    /// <summary>JSON console logs, one object a line, carrying trace and span ids.</summary>
    public static TBuilder AddStructuredConsoleLogs<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        return builder;
    }

    /// <summary>
    /// Traces, metrics and logs through OpenTelemetry. Metrics are always scrapeable in Prometheus format at
    /// <c>/metrics</c> (mapped by MapDefaultEndpoints) and, like traces and logs, exported over OTLP when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set (the AppHost sets it to its dashboard). Protocol and headers come from the
    /// standard OTEL_* variables, which the SDK reads itself; service.name is OTEL_SERVICE_NAME, else the application
    /// name. Meters: the suite's own (<c>Suite.*</c>), Polly's (<c>Polly</c>: every retry, timeout and breaker event of
    /// a pipeline), ASP.NET Core's and HttpClient's (request durations), and the runtime's (thread pool, GC).
    /// </summary>
    public static TBuilder AddSuiteTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
        });

        builder.Services.AddSingleton<ProblemMetrics>();
        builder.Services.AddSingleton<DatabaseMetrics>();
        builder.Services.AddResilienceTelemetry();

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: ServiceInstanceId(builder.Configuration)))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(SuiteSourcePrefix + "*", PollyMeterName)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName, SuiteSourcePrefix + "*")
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsOperationsPath(ctx.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>Polly's meter (Polly.Extensions): resilience.polly.strategy.events and the attempt/pipeline durations.</summary>
    public const string PollyMeterName = "Polly";

    /// <summary>Path of the Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Serves the metrics in Prometheus text format at /metrics (not traced, not counted as requests).</summary>
    public static WebApplication MapPrometheusMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint(MetricsPath).DisableHttpMetrics();
        return app;
    }

    /// <summary>Health and metrics endpoints: polled all the time, so they make no spans.</summary>
    private static bool IsOperationsPath(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(MetricsPath, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// This process's <c>service.instance.id</c>: the one the AppHost gives each replica (kept across restarts, so the
    /// dashboard ties telemetry to the replica), else host and process id.
    /// </summary>
    public static string ServiceInstanceId(IConfiguration configuration) =>
        AppHostInstanceId(configuration) ?? $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The <c>service.instance.id</c> in <c>OTEL_RESOURCE_ATTRIBUTES</c> (set by the AppHost), or null.</summary>
    public static string? AppHostInstanceId(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var id = (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "").Split(',')
            .Select(a => a.Split('=', 2))
            .FirstOrDefault(kv => kv.Length == 2 && kv[0].Trim() == "service.instance.id")?[1].Trim();
        return string.IsNullOrWhiteSpace(id) ? null : id;
    }

    /// <summary>The trace id of the current activity, for log fields and error bodies.</summary>
    public static string? CurrentTraceId() => Activity.Current?.TraceId.ToString();
}
