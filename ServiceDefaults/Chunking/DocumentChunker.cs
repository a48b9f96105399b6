using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Suite.Contracts;

namespace Suite.Chunking;

/// <summary>
/// Cuts a document's result into chunks (docs/chunks.md), lazily, in reading order. <c>hierarchical</c>: one chunk per
/// structural element, an element over the limit split like hybrid's. <c>hybrid</c>: elements split to the limit less
/// the overlap, then consecutive pieces under the same heading path merged while the merged text stays within it, then
/// each chunk that follows one of its own section starts with the end of that chunk (at most overlapTokens). Every
/// chunk's text is counted by the named tokenizer and is never over maxTokens. Nothing depends on time, randomness or
/// culture: the same result and request give the same chunks.
/// </summary>
public sealed class DocumentChunker(ChunkTokenizers tokenizers)
{
    private const string MergeSeparator = "\n\n";
    private const string OverlapSeparator = "\n";

    public IEnumerable<DocumentChunk> Chunk(DocumentResult result, ChunkRequest request)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(request);
        // At most half for the overlap leaves every piece a budget of half the limit, room for any character's tokens.
        if (request.MaxTokens < 2 || request.OverlapTokens < 0 || request.OverlapTokens > request.MaxTokens / 2)
        {
            throw new ArgumentException("maxTokens must be at least 2 and overlapTokens from 0 to half of maxTokens.", nameof(request));
        }

        var tokens = new TokenBudget(tokenizers.Get(request.Tokenizer));
        var splitter = new ElementSplitter(tokens);
        var hybrid = request.Strategy == ChunkStrategies.Hybrid;
        if (!hybrid && request.Strategy != ChunkStrategies.Hierarchical)
        {
            throw new ArgumentException($"'{request.Strategy}' is not a chunking strategy.", nameof(request));
        }

        var overlap = hybrid ? request.OverlapTokens : 0;
        var pieces = ElementReader.Read(result).SelectMany(e => splitter.Split(e, request.MaxTokens - overlap));
        if (hybrid)
        {
            pieces = Merge(pieces, tokens, request.MaxTokens - overlap);
        }

        return Number(pieces, tokens, result.DocumentId, request, overlap);
    }

    /// <summary>Consecutive pieces under the same heading path, joined while the joined text fits; a piece cut by tokens stays alone.</summary>
    private static IEnumerable<ChunkPiece> Merge(IEnumerable<ChunkPiece> pieces, TokenBudget tokens, int budget)
    {
        ChunkPiece? open = null;
        foreach (var piece in pieces)
        {
            if (open is not null && open.Split != ChunkSplits.Tokens && piece.Split != ChunkSplits.Tokens && open.SamePath(piece))
            {
                var text = open.Text + MergeSeparator + piece.Text;
                var count = tokens.Count(text);
                if (count <= budget)
                {
                    open = open with { Text = text, Sources = ChunkSource.Unite(open.Sources.Concat(piece.Sources)), Split = open.Split ?? piece.Split, TokenCount = count };
                    continue;
                }
            }

            if (open is not null)
            {
                yield return open;
            }

            open = piece;
        }

        if (open is not null)
        {
            yield return open;
        }
    }

    private static IEnumerable<DocumentChunk> Number(IEnumerable<ChunkPiece> pieces, TokenBudget tokens, string documentId, ChunkRequest request, int overlap)
    {
        var index = 0;
        ChunkPiece? previous = null;
        foreach (var piece in pieces)
        {
            var text = piece.Text;
            var count = piece.TokenCount;
            var overlapChars = 0;
            if (overlap > 0 && previous is not null && previous.SamePath(piece))
            {
                // Joining can tokenize one more token at the seam: fewer overlap tokens until the whole fits.
                for (var budget = overlap; budget > 0; budget--)
                {
                    var tail = tokens.Tail(previous.Text, budget);
                    if (tail.Length == 0)
                    {
                        break;
                    }

                    var joined = tail + OverlapSeparator + piece.Text;
                    var joinedCount = tokens.Count(joined);
                    if (joinedCount <= request.MaxTokens)
                    {
                        (text, count, overlapChars) = (joined, joinedCount, tail.Length + OverlapSeparator.Length);
                        break;
                    }
                }
            }

            yield return new DocumentChunk(
                Id(documentId, request, index),
                index,
                documentId,
                request.Strategy,
                text,
                piece.Headings,
                piece.Sources.Select(s => s.BlockId).Distinct(StringComparer.Ordinal).ToList(),
                piece.Sources.Select(s => s.Page).Distinct().Order().ToList(),
                piece.Sources.Select(s => s.ToBox()).ToList(),
                count,
                request.Tokenizer,
                overlapChars) { Split = piece.Split };
            previous = piece;
            index++;
        }
    }

    /// <summary>A hash of the document, the request and the position: the same for the same chunk every time it is made.</summary>
    private static string Id(string documentId, ChunkRequest request, int index) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{documentId}\n{request.Key}\n{index}"))))[..32];
}
