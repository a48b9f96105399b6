namespace Suite.Chunking;

/// <summary>A piece of an element within the token budget, before hybrid merging: its text, path, sources and how it was cut.</summary>
internal sealed record ChunkPiece(IReadOnlyList<string> Headings, string Text, IReadOnlyList<ChunkSource> Sources, string? Split, int TokenCount)
{
    public bool SamePath(ChunkPiece other) => Headings.SequenceEqual(other.Headings, StringComparer.Ordinal);
}
