using IngestService.Admission;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Scanning;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// POST /api/documents: streams the multipart part "file" to a temp file (size limit enforced while streaming, magic
/// bytes checked, SHA-256 computed), has clamd scan it, renames it into uploads/{id}.pdf, inserts the catalog row
/// (awaiting_scan) and applies the verdict: clean → queued and enqueued, infected → rejected (422), none → held.
/// The body is read with MultipartReader, never buffered whole and never bound to IFormFile.
/// </summary>
internal sealed partial class UploadHandler(
    BlobStore blobs,
    DocumentRegistration registration,
    DocumentReads reads,
    CatalogState catalogState,
    CatalogDb catalogDb,
    ScanGate scanGate,
    AdmissionControl admission,
    UploadKeys keys,
    IOptions<IngestOptions> options,
    ILogger<UploadHandler> logger)
{
    /// <summary>Room for the multipart framing and small extra fields on top of the file's own limit.</summary>
    private const long MultipartOverheadBytes = 1024 * 1024;

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The client's name as the gateway passes it (it drops whatever a client sends); empty for direct calls.</summary>
    public const string ClientHeader = "X-Suite-Client";

    public async Task<IResult> UploadAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var result = await ReceiveAsync(http);
        IngestTelemetry.CountUpload(result is IStatusCodeHttpResult { StatusCode: 202 } ? "accepted" : "refused");
        return result;
    }

    private async Task<IResult> ReceiveAsync(HttpContext http)
    {
        var cancellationToken = http.RequestAborted;
        if (!PriorityParameter.TryRead(http.Request.Query, out var priority))
        {
            return IngestProblems.InvalidPriority(PriorityParameter.Sent(http.Request.Query));
        }

        if (!TryGetBoundary(http.Request, out var boundary))
        {
            return IngestProblems.MissingFile("The request is not multipart/form-data.");
        }

        if (!catalogState.IsAvailable)
        {
            // Refuse before reading the body rather than after storing it.
            return IngestProblems.CatalogUnavailable(catalogState.Current.Description);
        }

        if (catalogDb.Database.WriteRefusal() is { } readOnly)
        {
            // Read-only mode: the upload could not be recorded, so its body is not even read. Once the break is over
            // this check lets uploads through again, and the first one's catalog write is the probe.
            return IngestProblems.CatalogReadOnly(readOnly);
        }

        // A storage root that is gone is not "full": say so before admission measures its free space.
        blobs.EnsurePresent();

        if (!TryReadIdempotencyKey(http.Request, out var idempotencyKey))
        {
            return IngestProblems.InvalidIdempotencyKey();
        }

        // Shed load before the body is read: nothing of a refused upload touches the disk.
        if (await admission.CheckAsync(cancellationToken) is { } refused)
        {
            return refused;
        }

        var maxBytes = options.Value.MaxUploadBytes;
        // The size check that matters is ours, on the file part while it streams (413 file_too_large); Kestrel's own
        // body limit (30 MB by default) is raised so that it does not cut in first.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = maxBytes + MultipartOverheadBytes;
        }

        var reader = new MultipartReader(boundary, http.Request.Body);
        MultipartSection? section;
        ContentDispositionHeaderValue? disposition;
        try
        {
            (section, disposition) = await FindFilePartAsync(reader, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return IngestProblems.FileTooLarge(maxBytes);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            return IngestProblems.MalformedUpload(ex.Message);
        }

        if (section is null || disposition is null)
        {
            return IngestProblems.MissingFile($"The multipart body has no part named '{IngestProblems.FilePart}'.");
        }

        var fileName = FileNames.ForDisplay(disposition.FileNameStar.HasValue
            ? disposition.FileNameStar.Value
            : HeaderUtilities.RemoveQuotes(disposition.FileName).Value);

        var tempPath = blobs.NewUploadTempPath();
        string? storedPath = null;
        var committed = false;
        try
        {
            var signature = new PdfSignature();
            var written = await BlobStore.WriteTempAsync(section.Body, tempPath, maxBytes, chunk => signature.Observe(chunk.Span), cancellationToken);
            switch (written.Status)
            {
                case BlobWriteStatus.TooLarge:
                    return IngestProblems.FileTooLarge(maxBytes);
                case BlobWriteStatus.Refused:
                    return IngestProblems.NotPdf();
                case BlobWriteStatus.Written when written.SizeBytes == 0:
                    return IngestProblems.EmptyFile();
                case BlobWriteStatus.Written when !signature.IsPdf:
                    return IngestProblems.NotPdf();
            }

            // The key first: a retry of an upload already taken gets its first answer again without a second scan, even
            // while the scanner is down.
            var id = DocumentId.New();
            var client = http.Request.Headers[ClientHeader].ToString();
            if (idempotencyKey is not null
                && await keys.ReserveAsync(client, idempotencyKey, id, written.Sha256, cancellationToken) is { } earlier)
            {
                // A retry of an upload already taken: its first answer again, or a refusal if the content changed.
                return earlier.Sha256 == written.Sha256
                    ? await ReplayAsync(http, earlier.DocumentId, cancellationToken)
                    : IngestProblems.IdempotencyKeyReused(idempotencyKey, earlier.DocumentId);
            }

            DateTimeOffset createdAt;
            ScanOutcome scan;
            try
            {
                // The malware scan, before anything is stored (policy Refuse stores nothing without a verdict); a
                // refusal frees the key, so that the client's retry is a new attempt.
                scan = await scanGate.ScanAsync(tempPath, cancellationToken);
                if (scanGate.Refuses(scan))
                {
                    return IngestProblems.ScannerUnavailable(scan.Reason!, scanGate.RetryAfter);
                }

                storedPath = blobs.UploadPath(id);
                File.Move(tempPath, storedPath);
                createdAt = await registration.InsertAsync(id, fileName, written.Sha256, written.SizeBytes, priority, cancellationToken, DocumentStatus.AwaitingScan, client);
                committed = true;
            }
            finally
            {
                if (!committed && idempotencyKey is not null)
                {
                    await keys.ReleaseAsync(client, idempotencyKey, id);
                }
            }

            IngestTelemetry.UploadedBytes.Add(written.SizeBytes);

            // The file and the row are durable now: the verdict is applied (clean: queued and enqueued, a failed
            // enqueue left to the sweeper; infected: rejected, file deleted; none: held) whatever the client does.
            var settled = await scanGate.SettleAsync(id, storedPath, scan, priority, "upload");
            if (settled.Status == DocumentStatus.Rejected)
            {
                return IngestProblems.MalwareDetected(id, scan.Signature ?? "unnamed signature");
            }

            var duplicateOf = await FindSameContentAsync(written.Sha256, id);

            LogAccepted(id, written.SizeBytes, settled.Status ?? DocumentStatus.AwaitingScan, settled.EntryId ?? "-");
            return TypedResults.Accepted(
                DocumentRoutes.Self(id),
                new UploadAccepted(id, fileName, settled.Status ?? DocumentStatus.AwaitingScan, written.SizeBytes, written.Sha256,
                    createdAt, DocumentLinks.For(id), priority, duplicateOf));
        }
        finally
        {
            BlobStore.DeleteQuietly(tempPath);
            if (!committed)
            {
                BlobStore.DeleteQuietly(storedPath);
            }
        }
    }

    /// <summary>The answer to a retried upload: the document its key names, as it is now.</summary>
    private async Task<IResult> ReplayAsync(HttpContext http, string documentId, CancellationToken cancellationToken)
    {
        if (await reads.FindAsync(documentId, cancellationToken) is not { } document)
        {
            // The first upload with this key is still being stored.
            return IngestProblems.IdempotencyKeyInProgress();
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Accepted(
            DocumentRoutes.Self(document.Id),
            new UploadAccepted(document.Id, document.FileName, document.Status, document.SizeBytes, document.Sha256,
                document.CreatedAt, DocumentLinks.For(document.Id), document.Priority));
    }

    /// <summary>Duplicate content is reported, never refused; a failed lookup must not turn a stored upload into an error.</summary>
    private async Task<string?> FindSameContentAsync(string sha256, string id)
    {
        try
        {
            return await keys.FindSameContentAsync(sha256, id, CancellationToken.None);
        }
        catch (SqliteException ex)
        {
            LogDuplicateLookupFailed(id, ex.Message);
            return null;
        }
    }

    /// <summary>False when the header is present but unusable: 1 to 200 visible ASCII characters.</summary>
    private static bool TryReadIdempotencyKey(HttpRequest request, out string? key)
    {
        key = null;
        if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var values))
        {
            return true;
        }

        var value = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(value) || value.Length > 200 || value.Any(c => c is < '!' or > '~'))
        {
            return false;
        }

        key = value;
        return true;
    }

    private static async Task<(MultipartSection?, ContentDispositionHeaderValue?)> FindFilePartAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                && HeaderUtilities.RemoveQuotes(disposition.Name).Equals(IngestProblems.FilePart, StringComparison.Ordinal))
            {
                return (section, disposition);
            }

            // Another field: skip it without keeping it.
            await section.Body.CopyToAsync(Stream.Null, cancellationToken);
        }

        return (null, null);
    }

    private static bool TryGetBoundary(HttpRequest request, out string boundary)
    {
        boundary = "";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = HeaderUtilities.RemoveQuotes(mediaType.Boundary);
        if (value.Length is 0 or > 200)
        {
            return false;
        }

        boundary = value.Value!;
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look for earlier copies of document {DocumentId}: {Reason}")]
    private partial void LogDuplicateLookupFailed(string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted document {DocumentId} ({SizeBytes} bytes) as {Status}, job {EntryId}")]
    private partial void LogAccepted(string documentId, long sizeBytes, string status, string entryId);
}
