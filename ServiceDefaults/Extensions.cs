using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Problems;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The defaults every service of the suite starts with, in the style of an Aspire ServiceDefaults project.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddStructuredConsoleLogs();
        builder.AddSuiteTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddApiProblemDetails();

        builder.Services.AddServiceDiscovery();
        // Discovery on every client; resilience is added per client (AddDependencyResilience) so that
        // each dependency gets its own circuit breaker instead of one shared "standard" pipeline.
        // No HttpClient header logging: its structured state carries header values unredacted (only the formatted
        // text masks them), so an OTLP log exporter would ship Authorization headers. Requests are traced instead.
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery().RemoveAllLoggers());

        builder.AddStartupAndShutdown();
        return builder;
    }

    /// <summary>
    /// Maps /health/live, /health/ready, /metrics (Prometheus) and the central error handling; refuses requests that
    /// arrive once shutdown has begun (before any other middleware, the gateway's API keys included).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseApiProblemHandling();
        app.UseShutdownRefusal();
        app.MapHealthEndpoints();
        app.MapPrometheusMetrics();
        return app;
    }
}
