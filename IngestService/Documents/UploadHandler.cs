using IngestService.Admission;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Retention;
using IngestService.Scanning;
using IngestService.Storage;
using IngestService.Sources;
using IngestService.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// POST /api/documents, both ways a document comes in: a multipart/form-data part "file" (<see cref="MultipartUpload"/>)
/// or a JSON body naming a URL to fetch (<see cref="UrlUpload"/>). Both run the same steps around their own: the refusals
/// that need no body (catalog, storage, Idempotency-Key, admission) before anything is read or fetched; then, once the
/// file is in its temp file, the key's reservation, the malware scan, the rename into uploads/{id}.pdf, the catalog row
/// (awaiting_scan) and the verdict: clean → queued and enqueued, infected → rejected (422), none → held.
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
    UrlUpload urlUpload,
    UploadOptions uploadOptions,
    WebhookDeliveries webhooks,
    RetentionPolicy retention,
    Tombstones tombstones,
    IOptions<IngestOptions> options,
    ILogger<UploadHandler> logger)
{
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

        var isMultipart = MultipartUpload.TryGetBoundary(http.Request, out var boundary);
        if (!isMultipart && !UrlSourceRequest.IsJson(http.Request))
        {
            return IngestProblems.MissingFile(
                "The request is neither multipart/form-data nor application/json (a URL upload: {\"url\": \"https://…\"}).");
        }

        if (RefuseWrites() is { } cannotWrite)
        {
            return cannotWrite;
        }

        if (!TryReadIdempotencyKey(http.Request, out var idempotencyKey))
        {
            return IngestProblems.InvalidIdempotencyKey();
        }

        // Shed load before the body is read or a URL fetched: nothing of a refused upload touches the disk or the network.
        if (await admission.CheckAsync(cancellationToken) is { } refused)
        {
            return refused;
        }

        var maxBytes = options.Value.MaxUploadBytes;
        var tempPath = blobs.NewUploadTempPath();
        try
        {
            var received = isMultipart
                ? await MultipartUpload.ReceiveAsync(http, boundary, tempPath, maxBytes, uploadOptions, cancellationToken)
                : await urlUpload.ReceiveAsync(http, tempPath, maxBytes, cancellationToken);
            return received.Problem ?? await AcceptAsync(http, received.File!, tempPath, priority, idempotencyKey, cancellationToken);
        }
        finally
        {
            BlobStore.DeleteQuietly(tempPath);
        }
    }

    /// <summary>
    /// The refusals that need no body, for a single upload and a batch alike: the catalog must be open and writable,
    /// the storage root present. Null when the upload may go on.
    /// </summary>
    internal IResult? RefuseWrites()
    {
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
        return null;
    }

    /// <summary>
    /// The steps every upload shares once its file is in <paramref name="tempPath"/>, checked: retention, the key, the
    /// scan, the rename, the row and the verdict. A batch runs it once per file (without a key).
    /// </summary>
    internal async Task<IResult> AcceptAsync(
        HttpContext http, ReceivedFile file, string tempPath, string priority, string? idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(file);
        var (retainSeconds, badRetention) = retention.Resolve(file.RetainFor);
        if (badRetention is not null)
        {
            return badRetention;
        }

        var written = file.Written;
        string? storedPath = null;
        var committed = false;
        try
        {
            // The key first: a retry of an upload already taken gets its first answer again without a second scan, even
            // while the scanner is down.
            var id = DocumentId.New();
            var client = http.Request.Headers[ClientHeader].ToString();
            if (idempotencyKey is not null
                && await keys.ReserveAsync(client, idempotencyKey, id, written.Sha256, cancellationToken) is { } earlier)
            {
                // A retry of an upload already taken: its first answer again, or a refusal if the content or the options
                // changed (a document's options are fixed, so a retry cannot change them silently).
                return earlier.Sha256 == written.Sha256
                    ? await ReplayAsync(http, earlier.DocumentId, idempotencyKey, file.Options, cancellationToken)
                    : IngestProblems.IdempotencyKeyReused(idempotencyKey, earlier.DocumentId);
            }

            // The callbackUrl's secret is made here and given out once, in this answer (and its idempotent replays).
            var callback = file.CallbackUrl is null ? null : new DocumentCallback(file.CallbackUrl, WebhookSigner.NewSecret());
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
                createdAt = await registration.InsertAsync(id, file.FileName, written.Sha256, written.SizeBytes, priority, cancellationToken,
                    DocumentStatus.AwaitingScan, client, file.SourceUrl, file.Format, file.Options, callback, retainSeconds);
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
                new UploadAccepted(id, file.FileName, settled.Status ?? DocumentStatus.AwaitingScan, written.SizeBytes, written.Sha256,
                    createdAt, DocumentLinks.For(id), priority, file.Format, file.Options, duplicateOf, callback?.Url, callback?.Secret, retainSeconds));
        }
        finally
        {
            if (!committed)
            {
                BlobStore.DeleteQuietly(storedPath);
            }
        }
    }

    /// <summary>The answer to a retried upload: the document its key names, as it is now.</summary>
    private async Task<IResult> ReplayAsync(HttpContext http, string documentId, string key, DocumentOptions asked, CancellationToken cancellationToken)
    {
        if (await reads.FindAsync(documentId, cancellationToken) is not { } document)
        {
            // Deleted or expired since: its key keeps naming it, so the retry learns that rather than waiting forever.
            if (await tombstones.FindAsync(documentId, cancellationToken) is { } tombstone)
            {
                return RetentionProblems.Gone(tombstone);
            }

            // The first upload with this key is still being stored.
            return IngestProblems.IdempotencyKeyInProgress();
        }

        if (document.DocumentOptions != asked)
        {
            return IngestProblems.IdempotencyKeyOptionsDiffer(key, documentId);
        }

        http.Response.Headers["Idempotent-Replayed"] = "true";
        var callback = await webhooks.FindCallbackAsync(document.Id, cancellationToken);
        return TypedResults.Accepted(
            DocumentRoutes.Self(document.Id),
            new UploadAccepted(document.Id, document.FileName, document.Status, document.SizeBytes, document.Sha256,
                document.CreatedAt, DocumentLinks.For(document.Id), document.Priority, document.Format, document.DocumentOptions,
                CallbackUrl: callback?.Url, CallbackSecret: callback?.Secret, RetainForSeconds: document.RetainSeconds));
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not look for earlier copies of document {DocumentId}: {Reason}")]
    private partial void LogDuplicateLookupFailed(string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted document {DocumentId} ({SizeBytes} bytes) as {Status}, job {EntryId}")]
    private partial void LogAccepted(string documentId, long sizeBytes, string status, string entryId);
}
