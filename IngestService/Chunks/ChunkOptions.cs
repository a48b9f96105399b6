using System.ComponentModel.DataAnnotations;
using Suite.Chunking;

namespace IngestService.Chunks;

/// <summary>
/// Chunking (section <c>Chunks</c>, validated at start-up): the defaults of GET /api/documents/{id}/chunks, the bounds
/// of maxTokens, and the tokenizers a client may name (tiktoken encodings this build ships: cl100k_base, o200k_base).
/// </summary>
internal sealed class ChunkOptions
{
    public const string Section = "Chunks";

    /// <summary>The tokenizer without a <c>tokenizer</c> parameter, and of precomputed chunks.</summary>
    public string DefaultTokenizer { get; set; } = ChunkTokenizers.Cl100kBase;

    /// <summary>The tokenizers a client may ask for; the default must be one of them.</summary>
    // An array: configuration replaces it whole (a list would get the configured names appended to these).
    public string[] Tokenizers { get; set; } = [ChunkTokenizers.Cl100kBase, ChunkTokenizers.O200kBase];

    /// <summary>maxTokens without the parameter, and of precomputed chunks.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Chunks:DefaultMaxTokens must be from 1 to 1000000.")]
    public int DefaultMaxTokens { get; set; } = 512;

    /// <summary>The smallest maxTokens a client may ask for: below it chunks say too little to be found.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Chunks:MinMaxTokens must be from 1 to 1000000.")]
    public int MinMaxTokens { get; set; } = 16;

    /// <summary>The largest maxTokens a client may ask for (embedding models take a few thousand tokens at most).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Chunks:MaxMaxTokens must be from 1 to 1000000.")]
    public int MaxMaxTokens { get; set; } = 8192;
}
