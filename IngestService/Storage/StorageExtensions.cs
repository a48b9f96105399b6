using IngestService.Storage;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;

namespace Microsoft.Extensions.Hosting;

internal static class StorageExtensions
{
    /// <summary>
    /// The blob store on <c>Storage:Root</c>: checked writable by the first start-up step (retried until it is), temp
    /// files removed on stop, orphans swept once the catalog is open and then periodically, with a readiness check.
    /// </summary>
    public static TBuilder AddIngestStorage<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<BlobStore>();
        builder.Services.AddSingleton<StorageState>();
        builder.Services.AddStartupStep<StorageInitializer>();
        builder.Services.AddHostedService<TempFilesCleanupOnStop>();
        builder.Services.AddSingleton<OrphanQueries>();
        builder.Services.AddHostedService<OrphanSweeper>();
        builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return builder;
    }
}
