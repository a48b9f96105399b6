using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class CatalogExtensions
{
    /// <summary>
    /// The SQLite catalog at {Storage:Root}/catalog.db through the shared access layer (settings under <c>Catalog</c>,
    /// validated at start-up): checked and migrated by a start-up step, checkpointed and closed on stop, with a
    /// readiness check.
    /// </summary>
    public static TBuilder AddIngestCatalog<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<CatalogOptions>().BindConfiguration(CatalogOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CatalogOptions>, CatalogOptionsValidator>();
        builder.Services.AddSingleton<CatalogState>();
        builder.Services.AddSingleton(sp => new CatalogDb(
            new SqliteDatabase(
                CatalogDb.DatabaseName,
                sp.GetRequiredService<BlobStore>().CatalogPath,
                sp.GetRequiredService<IOptions<CatalogOptions>>().Value,
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetService<DatabaseMetrics>(),
                sp.GetService<ResilienceMetrics>(),
                sp.GetService<CircuitBreakerStates>(),
                sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<CatalogState>(),
            sp.GetRequiredService<ILogger<CatalogDb>>()));
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
