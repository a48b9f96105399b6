using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class CatalogExtensions
{
    /// <summary>The SQLite catalog at {Storage:Root}/catalog.db: checked and migrated at start-up, with a readiness check.</summary>
    public static TBuilder AddIngestCatalog<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CatalogState>();
        builder.Services.AddSingleton(sp => new CatalogDb(
            sp.GetRequiredService<BlobStore>().CatalogPath,
            sp.GetRequiredService<CatalogState>(),
            sp.GetRequiredService<ILogger<CatalogDb>>(),
            sp.GetService<DatabaseMetrics>(),
            sp.GetService<ResilienceMetrics>()));
        // The catalog's operations, one class per job, each injected only where that job is done.
        builder.Services.AddSingleton<LeaseFence>();
        builder.Services.AddSingleton<DocumentRegistration>();
        builder.Services.AddSingleton<DocumentReads>();
        builder.Services.AddSingleton<DocumentHistory>();
        builder.Services.AddSingleton<QueueBookkeeping>();
        builder.Services.AddSingleton<JobLeases>();
        builder.Services.AddSingleton<StageReports>();
        builder.Services.AddSingleton<CatalogCheckpoints>();
        builder.Services.AddSingleton<DocumentCompletion>();
        builder.Services.AddSingleton<CancelAndRetry>();
        builder.Services.AddHostedService<CatalogInitializer>();
        builder.Services.AddHealthChecks().AddCheck<CatalogHealthCheck>("catalog", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}
