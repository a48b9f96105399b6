namespace Suite.Chunking;

/// <summary>
/// One chunk, a line of the JSON Lines answer (docs/chunks.md). <see cref="TokenCount"/> counts <see cref="Text"/> by
/// <see cref="Tokenizer"/>; <see cref="Overlap"/> is how many characters at the start of <see cref="Text"/> repeat the
/// end of the chunk before it (0: none).
/// </summary>
public sealed record DocumentChunk(
    string Id,
    int Index,
    string DocumentId,
    string Strategy,
    string Text,
    IReadOnlyList<string> Headings,
    IReadOnlyList<string> BlockIds,
    IReadOnlyList<int> Pages,
    IReadOnlyList<ChunkBox> Boxes,
    int TokenCount,
    string Tokenizer,
    int Overlap)
{
    /// <summary>
    /// How the chunk's element was cut, null when it was not: <c>sentences</c>, <c>rows</c> (a table between rows, its
    /// header rows repeated), <c>tokens</c> (a sentence or row longer than the limit, cut by tokens as a last resort).
    /// </summary>
    public string? Split { get; init; }
}

/// <summary>Where part of a chunk came from: a block of the result, its page and box (PDF points, origin bottom-left).</summary>
public sealed record ChunkBox(string BlockId, int Page, double Left, double Bottom, double Right, double Top);
