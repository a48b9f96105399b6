namespace Suite.Chunking;

/// <summary>The values of <see cref="DocumentChunk.Split"/>.</summary>
public static class ChunkSplits
{
    public const string Sentences = "sentences";
    public const string Rows = "rows";
    public const string Tokens = "tokens";
}
