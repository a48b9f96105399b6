using IngestService.Scanning;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class ScanningExtensions
{
    /// <summary>
    /// The malware scan of every upload by clamd (section <c>Scanner</c>, address <c>ConnectionStrings:clamav</c>,
    /// validated at start-up): the scanner with its timeout and breaker, the verdict step shared by uploads and held
    /// documents, the scanner of held documents, readiness details and metrics.
    /// </summary>
    public static TBuilder AddMalwareScanning<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ScannerOptions>()
            .Bind(builder.Configuration.GetSection(ScannerOptions.Section))
            .Configure<IConfiguration>((o, configuration) => o.Endpoint ??= configuration.GetConnectionString(ScannerOptions.ConnectionName))
            .ValidateDataAnnotations()
            .Validate(o => !o.Enabled || ClamAvEndpoint.TryParse(o.Endpoint, out _),
                "Scanner:Enabled is true but ConnectionStrings:clamav is missing or not tcp://host:port. Point it at clamd " +
                "(the AppHost sets it), or set Scanner:Enabled=false to run without malware scanning (development and tests only).")
            .ValidateOnStart();
        builder.Services.AddEagerSingleton<ScanMetrics>();
        builder.Services.AddSingleton<MalwareScanner>();
        builder.Services.AddSingleton<ScanCatalog>();
        builder.Services.AddSingleton<ScanGate>();
        builder.Services.AddHostedService<HeldDocumentScanner>();
        builder.Services.AddHealthChecks().AddCheck<ScannerHealthCheck>("scanner", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}
