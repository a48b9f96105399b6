using IngestService.Storage;
using Suite.ServiceDefaults.Health;

namespace Microsoft.Extensions.Hosting;

internal static class StorageExtensions
{
    /// <summary>The blob store on <c>Storage:Root</c>, validated and created at start-up, with a readiness check and the orphan sweeper.</summary>
    public static TBuilder AddIngestStorage<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<BlobStore>();
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddSingleton<OrphanQueries>();
        builder.Services.AddHostedService<OrphanSweeper>();
        builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return builder;
    }
}
