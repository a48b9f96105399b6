using IngestService.Chunks;
using Microsoft.Extensions.Options;
using Suite.Chunking;
using Suite.ServiceDefaults.Lifecycle;

namespace Microsoft.Extensions.Hosting;

internal static class ChunkExtensions
{
    /// <summary>Chunks for retrieval (section <c>Chunks</c>, validated at start-up; docs/chunks.md): the chunker, its tokenizers loaded at start-up, precomputed files.</summary>
    public static TBuilder AddChunks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<ChunkOptions>()
            .Bind(builder.Configuration.GetSection(ChunkOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChunkOptions>, ChunkOptionsValidation>();
        services.AddSingleton(ChunkTokenizers.Shared);
        services.AddSingleton<DocumentChunker>();
        services.AddSingleton<ChunkQuery>();
        services.AddSingleton<ChunkFiles>();
        services.AddStartupStep<ChunkTokenizerWarmup>();
        return builder;
    }
}
