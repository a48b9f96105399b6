using IngestService.Api;
using IngestService.Batches;
using IngestService.Documents;
using Microsoft.AspNetCore.Mvc;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The batch API under /api/batches (routed by the gateway's batch routes).</summary>
internal static class BatchEndpoints
{
    /// <summary>What a refused file of a batch counts as in GET /api/batches/{id}.</summary>
    public const string Refused = "refused";

    public static WebApplication MapBatchEndpoints(this WebApplication app)
    {
        var group = app.MapGroup(BatchRoutes.Prefix).AddEndpointFilter<StorageFailureFilter>().WithTags("batches").ProducesStorageProblems();
        group.MapPost("", ([FromServices] BatchUpload handler, HttpContext http) => handler.UploadAsync(http))
            .DisableAntiforgery()
            .WithName("UploadBatch")
            .WithSummary("Upload several files at once, each its own document")
            .WithDescription("multipart/form-data with the part `file` repeated, and the option fields of a single upload (applied to every " +
                             "file). Each file goes through the checks of POST /api/documents and becomes a document of its own; the 207 answer " +
                             "lists, in the order sent, each file's document (status 202 and the upload's answer) or its problem (its status " +
                             "and the problem+json object). Follow them together with GET /api/batches/{batchId}. Too many files, too many " +
                             "bytes, a bad option or an Idempotency-Key refuse the whole batch and nothing is stored.")
            .WithBatchUploadOptions()
            .Produces<BatchAccepted>(StatusCodes.Status207MultiStatus)
            .ProducesApiProblem(400, "missing_file", "malformed_multipart", "too_many_files", "unknown_option", "invalid_option",
                "idempotency_key_unsupported", "invalid_priority")
            .ProducesApiProblem(413, "batch_too_large");
        group.MapGet("{id}", GetAsync)
            .WithName("GetBatch")
            .WithSummary("Get a batch's documents with their statuses")
            .Produces<BatchView>()
            .ProducesApiProblem(404, "batch_not_found");
        return app;
    }

    private static async Task<IResult> GetAsync(string id, [FromServices] BatchCatalog catalog, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await catalog.FindAsync(id, cancellationToken) is not { } batch)
        {
            return BatchProblems.BatchNotFound(id);
        }

        var items = batch.Items.Select(f => new BatchItemView(
            f.Position,
            f.FileName,
            f.Status ?? f.GoneReason ?? Refused,
            f.DocumentId,
            f.DocumentId is null ? null : DocumentLinks.For(f.DocumentId),
            f.ProblemCode is null ? null : new BatchItemProblem(f.ProblemStatus ?? 0, f.ProblemCode))).ToList();
        var counts = items.GroupBy(i => i.Status, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        // Done when no file can change any more: each refused, or its document finished or gone.
        var done = items.All(i => i.Status is Refused or IngestService.Retention.Tombstone.Expired or IngestService.Retention.Tombstone.Deleted || DocumentStatus.IsTerminal(i.Status));
        return TypedResults.Ok(new BatchView(id, batch.CreatedAt, batch.Files, done, counts, items));
    }
}
