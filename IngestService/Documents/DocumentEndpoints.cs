using IngestService.Api;
using IngestService.Catalog;
using IngestService.Documents;
using IngestService.Queue;
using IngestService.Retention;
using IngestService.Scanning;
using IngestService.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The public document API under /api/documents (the only prefix the gateway routes here).</summary>
internal static class DocumentEndpoints
{
    public static WebApplication MapDocumentEndpoints(this WebApplication app)
    {
        var group = app.MapGroup(DocumentRoutes.Prefix).AddEndpointFilter<StorageFailureFilter>().AddEndpointFilter<TombstoneFilter>()
            .WithTags("documents").ProducesStorageProblems();
        group.MapPost("", ([FromServices] UploadHandler handler, HttpContext http) => handler.UploadAsync(http))
            .DisableAntiforgery()
            .WithName("UploadDocument")
            .WithSummary("Upload a document for processing")
            .WithDescription("Streams the PDF (multipart/form-data, part `file`) to storage, or fetches it from a URL (application/json " +
                             "`{\"url\": \"https://…\"}`; public internet addresses only, unless Sources:AllowedHosts allows the host), has it " +
                             "scanned for malware, catalogues it and enqueues it (status queued); while the scanner is down it is held as " +
                             "awaiting_scan and processed once scanned. Poll the document (Location header) until its status is completed, " +
                             "then fetch its result. Pipeline options (ocr, ocrLanguages, pageRange, images, tables, describePictures) go " +
                             "beside the file as form fields, or beside url as JSON members; they are echoed in the document and its result. " +
                             "A callbackUrl field or member asks for a signed completion webhook (docs/webhooks.md).")
            .WithUploadOptions()
            .Produces<UploadAccepted>(StatusCodes.Status202Accepted)
            .ProducesApiProblem(400, "missing_file", "malformed_multipart", "empty_file", "invalid_url_request", "url_invalid", "unknown_option",
                "invalid_option", "invalid_callback_url")
            .ProducesApiProblem(410, "document_expired", "document_deleted")
            .ProducesApiProblem(413, "file_too_large")
            .ProducesApiProblem(415, "unsupported_format")
            .ProducesApiProblem(422, "malware_detected", "url_forbidden")
            .ProducesApiProblem(502, "url_fetch_failed")
            .ProducesApiProblem(503, "scanner_unavailable")
            .ProducesApiProblem(504, "url_timeout");
        group.MapGet("", ListAsync)
            .WithName("ListDocuments")
            .WithSummary("List documents, newest first")
            .WithDescription("Keyset pagination: pass the page's nextCursor as cursor to get the next page; nextCursor is null on the last page.")
            .WithPageOptions()
            .Produces<DocumentPage>()
            .ProducesApiProblem(400, "invalid_limit", "invalid_cursor");
        group.MapGet("{id}", GetAsync)
            .WithName("GetDocument")
            .WithSummary("Get a document's status and stages")
            .Produces<DocumentDetail>()
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(410, "document_expired", "document_deleted");
        group.MapGet("{id}/result", GetResultAsync)
            .WithName("GetDocumentResult")
            .WithSummary("Download a completed document's result")
            .WithResultOptions()
            .ProducesApiProblem(400, "invalid_format")
            .ProducesApiProblem(404, "document_not_found", "result_format_unavailable")
            .ProducesApiProblem(409, "result_not_ready", "no_result")
            .ProducesApiProblem(410, "document_expired", "document_deleted");
        group.MapDelete("{id}", DeleteAsync)
            .WithName("DeleteDocument")
            .WithSummary("Delete a finished document; cancel an unfinished one")
            .WithDescription("A finished document (completed, failed, cancelled, rejected) is deleted at once: 204, and 410 document_deleted " +
                             "afterwards on every route of it. An unfinished one (awaiting_scan, queued, processing) is cancelled at once, as " +
                             "before: 200 with the cancelled document, which stays (it can be retried); to delete it, send the DELETE again " +
                             "once it is cancelled (the answer to the first says so: status cancelled), or send purge=true: cancelled and then " +
                             "deleted in one request, 204.")
            .Produces<DocumentDetail>()
            .Produces(StatusCodes.Status204NoContent)
            .ProducesApiProblem(400, "invalid_purge")
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(410, "document_expired", "document_deleted");
        group.MapPost("{id}/retry", RetryAsync)
            .WithName("RetryDocument")
            .WithSummary("Queue a failed or cancelled document again")
            .Produces<DocumentDetail>(StatusCodes.Status202Accepted)
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(409, "not_retryable")
            .ProducesApiProblem(410, "document_expired", "document_deleted");
        return app;
    }

    /// <summary>
    /// DELETE (Req OUT-2, JOB-5). A finished document is deleted at once (tombstone, then its files): 204. An unfinished one is
    /// cancelled at once and durably, as DELETE always did (a worker holding it stops within its next lease renewal and can
    /// write nothing more): 200 with the cancelled document, which stays until a second DELETE deletes it (or it expires).
    /// Cancel first, delete second: a client's cancel never loses a document it may still want to retry. With
    /// <c>purge=true</c> both happen in this one request: cancelled, then deleted (204).
    /// </summary>
    private static async Task<IResult> DeleteAsync(
        string id,
        [FromQuery] string? purge,
        [FromServices] CancelAndRetry cancelAndRetry,
        [FromServices] DocumentReads reads,
        [FromServices] DocumentDeletion deletion,
        CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id))
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (purge is not null and not ("true" or "false"))
        {
            return IngestProblems.InvalidPurge(purge);
        }

        // Twice at most: a document that finishes (or is cancelled by another request) between the two steps is deleted on
        // the second try; a purge, cancelled on the first, is deleted on the second.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            switch (await deletion.DeleteAsync(id, Tombstone.Deleted, onlyIfExpired: false, cancellationToken))
            {
                case DeletionOutcome.Deleted:
                    return TypedResults.NoContent();
                case DeletionOutcome.NotFound:
                    return IngestProblems.DocumentNotFound(id);
            }

            if (await cancelAndRetry.CancelAsync(id, cancellationToken) is not { } cancelled)
            {
                return IngestProblems.DocumentNotFound(id);
            }

            if (cancelled.Outcome == LeaseWrite.Done)
            {
                IngestTelemetry.Cancels.Add(1);
                if (purge != "true")
                {
                    return await DetailAsync(id, reads, cancellationToken);
                }
            }
        }

        return IngestProblems.CannotCancel(id, "finished");
    }

    /// <summary>
    /// Queues a failed (including dead-lettered) or cancelled document again (Req JOB-3). Its checkpoints are kept,
    /// so it resumes from the last valid one. 202 like an upload; the job is enqueued now or by the sweeper.
    /// </summary>
    private static async Task<IResult> RetryAsync(
        string id,
        [FromServices] CancelAndRetry cancelAndRetry,
        [FromServices] DocumentReads reads,
        [FromServices] JobEnqueuer enqueuer,
        [FromServices] ScanGate scanGate,
        CancellationToken cancellationToken)
    {
        // Never found clean (cancelled while awaiting its scan): back to awaiting_scan, scanned before it is queued.
        if (DocumentId.IsValid(id) && await scanGate.RetryThroughScanAsync(id, cancellationToken))
        {
            IngestTelemetry.Retries.Add(1);
            var held = await reads.FindWithStagesAsync(id, CancellationToken.None);
            return TypedResults.Accepted(DocumentRoutes.Self(id), DocumentDetail.From(held!.Value.Document, held.Value.Stages));
        }

        if (!DocumentId.IsValid(id) || await cancelAndRetry.RetryAsync(id, cancellationToken) is not { } retried)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (retried.Outcome != LeaseWrite.Done)
        {
            return IngestProblems.NotRetryable(id, retried.Document.Status);
        }

        IngestTelemetry.Retries.Add(1);
        await enqueuer.EnqueueAsync(id, retried.Document.Priority, "retry");
        var found = await reads.FindWithStagesAsync(id, CancellationToken.None);
        return TypedResults.Accepted(DocumentRoutes.Self(id), DocumentDetail.From(found!.Value.Document, found.Value.Stages));
    }

    private static async Task<IResult> DetailAsync(string id, DocumentReads reads, CancellationToken cancellationToken) =>
        await reads.FindWithStagesAsync(id, cancellationToken) is { } found
            ? TypedResults.Ok(DocumentDetail.From(found.Document, found.Stages))
            : IngestProblems.DocumentNotFound(id);

    private static async Task<IResult> GetAsync(string id, [FromServices] DocumentReads reads, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await reads.FindWithStagesAsync(id, cancellationToken) is not { } found)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        return TypedResults.Ok(DocumentDetail.From(found.Document, found.Stages));
    }

    private static async Task<IResult> ListAsync(
        [FromQuery] string? limit,
        [FromQuery] string? cursor,
        [FromServices] DocumentReads reads,
        [FromServices] IOptions<IngestOptions> options,
        CancellationToken cancellationToken)
    {
        var max = options.Value.MaxPageSize;
        var pageSize = Math.Min(options.Value.DefaultPageSize, max);
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pageSize)
                                  || pageSize < 1 || pageSize > max))
        {
            return IngestProblems.InvalidLimit(limit, max);
        }

        (string CreatedAt, string Id)? after = null;
        if (cursor is not null)
        {
            if (!ListCursor.TryDecode(cursor, out var position))
            {
                return IngestProblems.InvalidCursor();
            }

            after = position;
        }

        // One extra row tells whether there is a next page without a second query.
        var rows = await reads.ListAsync(pageSize + 1, after, cancellationToken);
        var page = rows.Take(pageSize).ToList();
        var next = rows.Count > pageSize ? ListCursor.Encode(page[^1]) : null;
        return TypedResults.Ok(new DocumentPage(page.Select(DocumentSummary.From).ToList(), next));
    }

    private static async Task<IResult> GetResultAsync(
        string id,
        [FromQuery] string? format,
        [FromServices] DocumentReads reads,
        [FromServices] BlobStore blobs,
        CancellationToken cancellationToken)
    {
        if (ResultFormat.Find(format) is not { } resultFormat)
        {
            return IngestProblems.InvalidFormat(format);
        }

        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is not { } document)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        switch (document.Status)
        {
            case DocumentStatus.Completed:
                var path = blobs.ResultPath(id, resultFormat);
                if (File.Exists(path))
                {
                    return TypedResults.PhysicalFile(path, resultFormat.ContentType);
                }

                blobs.EnsurePresent();
                return resultFormat.Optional && File.Exists(blobs.ResultPath(id, ResultFormat.Json))
                    ? IngestProblems.ResultFormatUnavailable(id, resultFormat.Name)
                    : IngestProblems.ResultMissing(id);
            case DocumentStatus.Failed or DocumentStatus.Cancelled or DocumentStatus.Rejected:
                return IngestProblems.NoResult(id, document.Status, document.ErrorCode, document.ErrorMessage);
            default:
                return IngestProblems.ResultNotReady(id, document.Status);
        }
    }
}
