using System.Text.Json;
using IngestService.Admission;
using IngestService.Api;
using IngestService.Documents;
using IngestService.Retention;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace IngestService.Batches;

/// <summary>
/// POST /api/batches: several files in one multipart body (the part <c>file</c> repeated) with the option fields of a
/// single upload, applied to every file. First the whole body is read: each file streams to a temp file of its own
/// (checked like a single upload's: size, format, empty), the fields are collected; over Ingest:MaxBatchFiles or
/// Ingest:MaxBatchBytes, or with a bad option, the batch is refused and nothing is stored. Then each file becomes a
/// document by the single upload's own steps (<see cref="UploadHandler.AcceptAsync"/>: admission, scan, rename, row,
/// enqueue), in order, and the answer lists each one's document or problem (207).
/// </summary>
internal sealed partial class BatchUpload(
    UploadHandler uploads,
    UploadOptions uploadOptions,
    RetentionPolicy retention,
    AdmissionControl admission,
    BlobStore blobs,
    BatchCatalog catalog,
    IOptions<IngestOptions> options,
    ILogger<BatchUpload> logger)
{
    /// <summary>Room for the multipart framing of every part on top of the files.</summary>
    private const long MultipartOverheadBytes = 1024 * 1024;

    private sealed record Part(string FileName, string TempPath, ReceivedUpload Received);

    public async Task<IResult> UploadAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var cancellationToken = http.RequestAborted;
        if (!PriorityParameter.TryRead(http.Request.Query, out var priority))
        {
            return IngestProblems.InvalidPriority(PriorityParameter.Sent(http.Request.Query));
        }

        if (!MultipartUpload.TryGetBoundary(http.Request, out var boundary))
        {
            return IngestProblems.MissingFile("A batch is multipart/form-data with one part per file.");
        }

        if (uploads.RefuseWrites() is { } cannotWrite)
        {
            return cannotWrite;
        }

        if (http.Request.Headers.ContainsKey(UploadHandler.IdempotencyKeyHeader))
        {
            return BatchProblems.IdempotencyKeyUnsupported();
        }

        var limits = options.Value;
        if (http.Request.ContentLength > limits.MaxBatchBytes + MultipartOverheadBytes)
        {
            return BatchProblems.TooLarge(limits.MaxBatchBytes);
        }

        // The batch's own bound is the body's, enforced while it streams (the files' own limit is each part's).
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = limits.MaxBatchBytes + MultipartOverheadBytes;
        }

        var parts = new List<Part>();
        try
        {
            var fields = new List<KeyValuePair<string, string>>();
            if (await ReadPartsAsync(http, boundary, parts, fields, cancellationToken) is { } refused)
            {
                return refused;
            }

            if (parts.Count == 0)
            {
                return IngestProblems.MissingFile($"The batch has no part named '{IngestProblems.FilePart}'.");
            }

            // The options and the retention hold for every file: a bad one refuses the batch before anything is stored.
            var (documentOptions, badOption) = await uploadOptions.ReadAsync(fields, cancellationToken);
            var retainFor = UploadOptions.RetainFor(fields);
            if ((badOption ?? retention.Resolve(retainFor).Problem) is { } problem)
            {
                return problem;
            }

            return await AcceptAllAsync(http, parts, documentOptions!, retainFor, priority, cancellationToken);
        }
        finally
        {
            foreach (var part in parts)
            {
                BlobStore.DeleteQuietly(part.TempPath);
            }
        }
    }

    private async Task<IResult?> ReadPartsAsync(
        HttpContext http, string boundary, List<Part> parts, List<KeyValuePair<string, string>> fields, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var reader = new MultipartReader(boundary, http.Request.Body);
        var total = 0L;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (!name.Equals(IngestProblems.FilePart, StringComparison.Ordinal))
                {
                    fields.Add(new(name, await MultipartUpload.ReadValueAsync(section.Body, cancellationToken)));
                    continue;
                }

                if (parts.Count == limits.MaxBatchFiles)
                {
                    return BatchProblems.TooManyFiles(limits.MaxBatchFiles);
                }

                var fileName = FileNames.ForDisplay(disposition.FileNameStar.HasValue
                    ? disposition.FileNameStar.Value
                    : HeaderUtilities.RemoveQuotes(disposition.FileName).Value);
                var tempPath = blobs.NewUploadTempPath();
                parts.Add(new Part(fileName, tempPath, default));
                var sniffer = new FormatSniffer();
                // The files' bytes together are bounded by Ingest:MaxBatchBytes (the body's limit only backs it up, with
                // room for the framing): a file that does not fit into what is left refuses the batch, not just itself.
                var remaining = limits.MaxBatchBytes - total;
                var limit = Math.Min(limits.MaxUploadBytes, remaining);
                var written = await BlobStore.WriteTempAsync(section.Body, tempPath, limit, chunk => sniffer.Observe(chunk.Span), cancellationToken);
                if (written.Status == BlobWriteStatus.TooLarge && remaining < limits.MaxUploadBytes)
                {
                    return BatchProblems.TooLarge(limits.MaxBatchBytes);
                }

                total += written.SizeBytes;
                parts[^1] = parts[^1] with
                {
                    Received = ReceivedUpload.Check(written, sniffer, tempPath, limits.MaxUploadBytes, fileName, sourceUrl: null, IngestProblems.EmptyFile, options: null),
                };
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return BatchProblems.TooLarge(limits.MaxBatchBytes);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            return IngestProblems.MalformedUpload(ex.Message);
        }

        return null;
    }

    private async Task<IResult> AcceptAllAsync(
        HttpContext http, List<Part> parts, Suite.Contracts.DocumentOptions documentOptions, string? retainFor, string priority, CancellationToken cancellationToken)
    {
        var batchId = DocumentId.New();
        var createdAt = await catalog.InsertBatchAsync(batchId, http.Request.Headers[UploadHandler.ClientHeader].ToString(), parts.Count, cancellationToken);
        var answers = new List<BatchFileAnswer>(parts.Count);
        for (var index = 0; index < parts.Count; index++)
        {
            var part = parts[index];
            IResult result;
            if (part.Received.Problem is { } refused)
            {
                result = refused;
            }
            else if (await admission.CheckAsync(cancellationToken) is { } shed)
            {
                // Admission per file: a batch cannot fill the queue or the disk past what single uploads may.
                result = shed;
            }
            else
            {
                var file = part.Received.File! with { Options = documentOptions, RetainFor = retainFor };
                result = await uploads.AcceptAsync(http, file, part.TempPath, priority, idempotencyKey: null, cancellationToken);
            }

            var (status, body) = await ResultCapture.CaptureAsync(result, http);
            var accepted = status == StatusCodes.Status202Accepted;
            answers.Add(new BatchFileAnswer(index, part.FileName, status, accepted ? body : null, accepted ? null : body));
            await catalog.RecordFileAsync(batchId, index, part.FileName,
                DocumentOf(body, accepted), accepted ? null : status, accepted ? null : StringMember(body, "code"));
        }

        var acceptedCount = answers.Count(a => a.Document is not null);
        LogBatch(batchId, parts.Count, acceptedCount);
        http.Response.Headers.Location = BatchRoutes.Self(batchId);
        return TypedResults.Json(
            new BatchAccepted(batchId, createdAt, parts.Count, acceptedCount, parts.Count - acceptedCount, new BatchLinks(BatchRoutes.Self(batchId)), answers),
            statusCode: StatusCodes.Status207MultiStatus);
    }

    /// <summary>The document a file became: the 202's id, or the documentId of a problem that still made one (malware_detected).</summary>
    private static string? DocumentOf(JsonElement body, bool accepted) => StringMember(body, accepted ? "id" : "documentId");

    private static string? StringMember(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId}: {Files} files, {Accepted} accepted")]
    private partial void LogBatch(string batchId, int files, int accepted);
}
