using IngestService.Chunks;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Suite.Chunking;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The chunks endpoint's query parameters as the OpenAPI document describes them, bounds from configuration.</summary>
internal static class ChunkApiDescription
{
    public static RouteHandlerBuilder WithChunkParameters(this RouteHandlerBuilder builder) => builder
        .WithQueryParameter(ChunkQuery.Strategy,
            "hybrid (default): token-aware chunks respecting structure; hierarchical: one chunk per structural element.",
            [.. ChunkStrategies.All])
        .WithIntegerQueryParameter(ChunkQuery.MaxTokens,
            "The most tokens a chunk's text may have, by the tokenizer; Chunks:DefaultMaxTokens (512) without it.",
            1, services => services.GetRequiredService<IOptions<ChunkOptions>>().Value.MaxMaxTokens)
        .WithIntegerQueryParameter(ChunkQuery.OverlapTokens,
            "hybrid only: at most this many tokens of a chunk's end start the next chunk of the same section; at most half of maxTokens; 0 without it.",
            0, services => services.GetRequiredService<IOptions<ChunkOptions>>().Value.MaxMaxTokens / 2)
        .WithQueryParameter(ChunkQuery.Tokenizer,
            "The tiktoken encoding that counts tokens: cl100k_base (default, Chunks:DefaultTokenizer) or another of Chunks:Tokenizers.",
            [.. ChunkTokenizers.Shipped])
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            // The array form (Accept: application/json): the JSON Lines objects as items.
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse { Content: { } content }
                && content.TryGetValue(ChunkJsonLines.MediaType, out var lines) && lines.Schema is { } chunk)
            {
                content[ChunkJsonArray.MediaType] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = chunk, Description = "Accept: application/json" },
                };
            }

            return Task.CompletedTask;
        });
}
