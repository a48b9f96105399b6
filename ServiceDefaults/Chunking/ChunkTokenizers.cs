using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace Suite.Chunking;

/// <summary>
/// The tokenizers chunks can be counted with, by tiktoken encoding name. Each is created once (loading its vocabulary
/// takes a moment) and shared: Microsoft.ML.Tokenizers' tiktoken tokenizer is safe to use from several threads.
/// </summary>
public sealed class ChunkTokenizers
{
    public const string Cl100kBase = "cl100k_base";
    public const string O200kBase = "o200k_base";

    /// <summary>The encodings whose vocabularies ship with this build (their Microsoft.ML.Tokenizers.Data packages).</summary>
    public static readonly IReadOnlyList<string> Shipped = [Cl100kBase, O200kBase];

    private readonly ConcurrentDictionary<string, Lazy<Tokenizer>> _loaded = new(StringComparer.Ordinal);

    public static ChunkTokenizers Shared { get; } = new();

    /// <summary>The tokenizer of <paramref name="encoding"/>; throws for an encoding that is not shipped.</summary>
    public Tokenizer Get(string encoding)
    {
        if (!Shipped.Contains(encoding, StringComparer.Ordinal))
        {
            throw new ArgumentException($"'{encoding}' is not a tokenizer this build ships; use one of {string.Join(", ", Shipped)}.", nameof(encoding));
        }

        return _loaded.GetOrAdd(encoding, name => new Lazy<Tokenizer>(() => TiktokenTokenizer.CreateForEncoding(name))).Value;
    }
}
