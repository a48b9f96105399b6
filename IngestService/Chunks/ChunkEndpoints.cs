using System.Text.Json;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Chunks;
using IngestService.Documents;
using IngestService.Storage;
using Microsoft.AspNetCore.Mvc;
using Suite.Chunking;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// <c>GET /api/documents/{id}/chunks</c>: a completed document's chunks for retrieval as JSON Lines (docs/chunks.md),
/// served from disk when they were precomputed for the same parameters, else computed from the stored result and
/// written as they are made. An unfinished or failed document answers as its result does.
/// </summary>
internal static class ChunkEndpoints
{
    public static WebApplication MapChunkEndpoints(this WebApplication app)
    {
        app.MapGroup(DocumentRoutes.Prefix).AddEndpointFilter<StorageFailureFilter>().WithTags("documents")
            .ProducesStorageProblems()
            .MapGet("{id}/chunks", GetChunksAsync)
            .WithName("GetDocumentChunks")
            .WithSummary("Get a completed document's chunks for retrieval (JSON Lines)")
            .WithDescription("One JSON object a line (application/x-ndjson), in reading order: id, index, text, headings (the heading path), " +
                             "blockIds, pages and boxes it came from, tokenCount by the named tokenizer, overlap, split. hybrid: token-aware " +
                             "chunks that keep sentences and table rows whole when they can and merge small neighbours under one heading path; " +
                             "hierarchical: one chunk per structural element. No chunk is over maxTokens. The same document and parameters " +
                             "always give the same bytes. With Accept: application/json (and neither JSON Lines type), one JSON array of the same objects.")
            .WithChunkParameters()
            .Produces<DocumentChunk>(StatusCodes.Status200OK, ChunkJsonLines.MediaType)
            .ProducesApiProblem(400, "invalid_chunk_parameter")
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(409, "result_not_ready", "no_result");
        return app;
    }

    private static async Task<IResult> GetChunksAsync(
        string id,
        HttpContext http,
        [FromServices] ChunkQuery query,
        [FromServices] DocumentReads reads,
        [FromServices] BlobStore blobs,
        [FromServices] ChunkFiles files,
        [FromServices] DocumentChunker chunker,
        CancellationToken cancellationToken)
    {
        var (request, problem) = query.Read(http.Request.Query);
        if (problem is not null)
        {
            return problem;
        }

        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is not { } document)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        switch (document.Status)
        {
            case DocumentStatus.Completed:
                break;
            case DocumentStatus.Failed or DocumentStatus.Cancelled or DocumentStatus.Rejected:
                return IngestProblems.NoResult(id, document.Status, document.ErrorCode, document.ErrorMessage);
            default:
                return IngestProblems.ResultNotReady(id, document.Status);
        }

        var array = WantsArray(http.Request);
        if (files.Find(id, request!) is { } stored)
        {
            return array
                ? TypedResults.Stream(async body =>
                {
                    await using var file = new FileStream(stored, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
                    await ChunkJsonArray.CopyFromJsonLinesAsync(file, body, http.RequestAborted);
                }, ChunkJsonArray.MediaType)
                : TypedResults.PhysicalFile(stored, ChunkJsonLines.MediaType);
        }

        var resultPath = blobs.ResultPath(id, ResultFormat.Json);
        if (!File.Exists(resultPath))
        {
            blobs.EnsurePresent();
            return IngestProblems.ResultMissing(id);
        }

        // Read before answering, so that a result that cannot be read is a problem, not a 200 cut short; the chunks
        // themselves are made one by one as the response is written.
        DocumentResult result;
        await using (var stream = new FileStream(resultPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true))
        {
            result = await JsonSerializer.DeserializeAsync<DocumentResult>(stream, DocumentResult.JsonOptions, cancellationToken)
                     ?? throw new InvalidOperationException($"The result of document {id} is null.");
        }

        var chunks = chunker.Chunk(result, request!);
        return array
            ? TypedResults.Stream(body => ChunkJsonArray.WriteAsync(chunks, body, http.RequestAborted), ChunkJsonArray.MediaType)
            : TypedResults.Stream(body => ChunkJsonLines.WriteAsync(chunks, body, http.RequestAborted), ChunkJsonLines.MediaType);
    }

    /// <summary>
    /// A JSON array only for a client that accepts application/json and neither JSON Lines type: JSON Lines stays the
    /// answer to no Accept, */* and anything else.
    /// </summary>
    private static bool WantsArray(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        bool Accepts(string type) => accept.Any(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase) && a.Quality is not 0);
        return Accepts(ChunkJsonArray.MediaType) && !Accepts(ChunkJsonLines.MediaType) && !Accepts(ChunkJsonLines.AlternativeMediaType);
    }
}
