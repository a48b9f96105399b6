using IngestService.Artifacts;
using Suite.ServiceDefaults.Lifecycle;

namespace Microsoft.Extensions.Hosting;

internal static class ArtifactStorageExtensions
{
    /// <summary>Stage artifacts (page images, pictures) under {Storage:Root}/artifacts, with orphaned temp files swept at start-up.</summary>
    public static TBuilder AddArtifactStorage<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<ArtifactStore>();
        builder.Services.AddStartupStep<ArtifactStoreInitializer>();
        return builder;
    }
}
