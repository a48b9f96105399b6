namespace Suite.Chunking;

/// <summary>How a document is cut into chunks (docs/chunks.md).</summary>
public static class ChunkStrategies
{
    /// <summary>One chunk per structural element (paragraph, list item, table, code, caption…) with its heading path.</summary>
    public const string Hierarchical = "hierarchical";

    /// <summary>Token-aware: elements split at sentences or table rows when too long, small neighbours under one heading path merged.</summary>
    public const string Hybrid = "hybrid";

    public static readonly IReadOnlyList<string> All = [Hybrid, Hierarchical];
}
