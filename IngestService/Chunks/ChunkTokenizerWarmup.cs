using Microsoft.Extensions.Options;
using Suite.Chunking;
using Suite.ServiceDefaults.Lifecycle;

namespace IngestService.Chunks;

/// <summary>Start-up step: loads every configured tokenizer once, so a vocabulary that cannot load stops start-up, not a request.</summary>
internal sealed class ChunkTokenizerWarmup(ChunkTokenizers tokenizers, IOptions<ChunkOptions> options) : IStartupStep
{
    public string Name => "loading chunk tokenizers";

    public Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var name in options.Value.Tokenizers)
        {
            try
            {
                tokenizers.Get(name).CountTokens("warm-up");
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
            {
                throw new StartupFailedException($"The chunk tokenizer '{name}' (Chunks:Tokenizers) could not be loaded: {ex.Message}", ex);
            }
        }

        return Task.CompletedTask;
    }
}
