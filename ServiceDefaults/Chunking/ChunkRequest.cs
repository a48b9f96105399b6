using System.Globalization;

namespace Suite.Chunking;

/// <summary>
/// What chunks to make: the strategy, the token limit of a chunk, the overlap between consecutive chunks of one
/// section (hybrid only) and the tokenizer that counts. Two equal requests on one result give identical chunks.
/// </summary>
public sealed record ChunkRequest(string Strategy, int MaxTokens, int OverlapTokens, string Tokenizer)
{
    /// <summary>
    /// A name made of the request alone (<c>hybrid-512-0-cl100k_base</c>): the file name of precomputed chunks and part
    /// of every chunk id, so a cached file is only ever served for the request it was made for.
    /// </summary>
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{Strategy}-{MaxTokens}-{OverlapTokens}-{Tokenizer}");
}
