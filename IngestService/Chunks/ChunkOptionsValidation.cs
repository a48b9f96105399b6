using Microsoft.Extensions.Options;
using Suite.Chunking;

namespace IngestService.Chunks;

/// <summary>Start-up check of <see cref="ChunkOptions"/>: known tokenizers, a default among them, bounds in order.</summary>
internal sealed class ChunkOptionsValidation : IValidateOptions<ChunkOptions>
{
    public ValidateOptionsResult Validate(string? name, ChunkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shipped = string.Join(", ", ChunkTokenizers.Shipped);
        if (options.Tokenizers.Length == 0)
        {
            return ValidateOptionsResult.Fail($"Chunks:Tokenizers must name at least one tokenizer ({shipped}).");
        }

        if (options.Tokenizers.FirstOrDefault(t => !ChunkTokenizers.Shipped.Contains(t, StringComparer.Ordinal)) is { } unknown)
        {
            return ValidateOptionsResult.Fail($"Chunks:Tokenizers names '{unknown}', which this build does not ship; use {shipped}.");
        }

        if (!options.Tokenizers.Contains(options.DefaultTokenizer, StringComparer.Ordinal))
        {
            return ValidateOptionsResult.Fail($"Chunks:DefaultTokenizer '{options.DefaultTokenizer}' must be one of Chunks:Tokenizers ({string.Join(", ", options.Tokenizers)}).");
        }

        return options.MinMaxTokens <= options.DefaultMaxTokens && options.DefaultMaxTokens <= options.MaxMaxTokens
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Chunks:MinMaxTokens <= Chunks:DefaultMaxTokens <= Chunks:MaxMaxTokens must hold.");
    }
}
