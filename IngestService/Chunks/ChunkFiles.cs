using System.Text.Json;
using IngestService.Storage;
using Suite.Chunking;
using Suite.Contracts;

namespace IngestService.Chunks;

/// <summary>
/// Precomputed chunks beside the result: <c>results/{id}/chunks/{strategy}-{maxTokens}-{overlapTokens}-{tokenizer}.jsonl</c>.
/// The name is the whole request, so a file is only ever served for the request it was made for, whatever the
/// configured defaults have become since. Made when the result is stored (upload option <c>chunks</c>) and moved into
/// place with the result, under the same lease check; read back as a file, streamed.
/// </summary>
internal sealed partial class ChunkFiles(BlobStore blobs, DocumentChunker chunker, ChunkQuery query, ILogger<ChunkFiles> logger)
{
    public string PathFor(string documentId, ChunkRequest request) =>
        Path.Combine(blobs.ResultDir(documentId), "chunks", request.Key + ".jsonl");

    /// <summary>The stored chunks of <paramref name="request"/>, or null when none were precomputed for it.</summary>
    public string? Find(string documentId, ChunkRequest request)
    {
        var path = PathFor(documentId, request);
        return File.Exists(path) ? path : null;
    }

    /// <summary>
    /// When the document's options ask for chunks, writes them from the submitted result JSON to a temp file beside
    /// their final place and returns both paths, for the caller to move in with the result; null when none are asked
    /// for, or when the result cannot be chunked (logged: GET then computes them, and answers why if it cannot either).
    /// </summary>
    public async Task<(string Temp, string Target)?> PrepareAsync(string documentId, DocumentOptions options, string resultJson, CancellationToken cancellationToken)
    {
        if (options.Chunks is not { } strategy || !ChunkStrategies.All.Contains(strategy, StringComparer.Ordinal))
        {
            return null;
        }

        var target = PathFor(documentId, query.Default(strategy));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = BlobStore.SiblingTempPath(target);
        try
        {
            var result = JsonSerializer.Deserialize<DocumentResult>(resultJson, DocumentResult.JsonOptions)
                         ?? throw new JsonException("the result JSON is null");
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await ChunkJsonLines.WriteAsync(chunker.Chunk(result, query.Default(strategy)), file, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            return (temp, target);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            BlobStore.DeleteQuietly(temp);
            LogNotPrecomputed(documentId, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chunks of document {DocumentId} were not precomputed ({Reason}); they are computed when asked for")]
    private partial void LogNotPrecomputed(string documentId, string reason);
}
