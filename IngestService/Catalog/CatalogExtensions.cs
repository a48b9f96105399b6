using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class CatalogExtensions
{
    /// <summary>
    /// The SQLite catalog at {Storage:Root}/catalog.db: checked and migrated by a start-up step, checkpointed and closed
    /// on stop, with a readiness check.
    /// </summary>
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
        builder.Services.AddSingleton<DocumentCatalog>();
        builder.Services.AddStartupStep<CatalogInitializer>();
        // A catalog found damaged is left untouched, even by the checkpoint.
        builder.Services.AddSqliteCheckpointOnStop(CatalogDb.DatabaseName, sp =>
        {
            var (state, db) = (sp.GetRequiredService<CatalogState>(), sp.GetRequiredService<CatalogDb>());
            return () => state.IsAvailable ? db.Path : null;
        });
        builder.Services.AddHealthChecks().AddCheck<CatalogHealthCheck>("catalog", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}
