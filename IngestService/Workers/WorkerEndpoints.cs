using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Chunks;
using IngestService.Checkpoints;
using IngestService.Documents;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The internal API for workers (routes in <see cref="InternalApi"/>), under /internal so the gateway never exposes it.
/// Every write carries the lease token of the worker's claim (header X-Lease-Token) and is refused with 409
/// stale_lease when a newer claim exists (Req CK-4).
/// </summary>
internal static partial class WorkerEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static WebApplication MapWorkerEndpoints(this WebApplication app)
    {
        var group = app.MapGroup(InternalApi.Prefix + "/documents/{id}").AddEndpointFilter<StorageFailureFilter>().WithTags("internal");
        group.MapPost("claim", ClaimAsync);
        group.MapGet("content", GetContentAsync);
        // POST is the contract; PUT is accepted too, as a stage report is an idempotent overwrite (the worker uses PUT).
        group.MapPut("stages/{stage}", ReportStageAsync);
        group.MapPut("checkpoints/{stage}", PutCheckpointAsync);
        group.MapGet("checkpoints/{stage}", GetCheckpointAsync);
        group.MapPut("result", PutResultAsync);
        group.MapPost("failure", ReportFailureAsync);
        group.MapPost("lease", RenewLeaseAsync);
        group.MapPost("release", ReleaseAsync);
        group.MapGet("events", GetEventsAsync);
        return app;
    }

    private static async Task<IResult> ClaimAsync(string id, HttpContext http, [FromServices] JobLeases leases)
    {
        if (!DocumentId.IsValid(id))
        {
            return IngestProblems.DocumentNotFound(id);
        }

        var (request, problem) = await ReadJsonAsync<ClaimRequest>(http, "a ClaimRequest JSON object { \"workerId\": \"...\" }", 64 * 1024);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(request!.WorkerId) || request.WorkerId.Length > 200)
        {
            return IngestProblems.InvalidBody("a ClaimRequest JSON object", "workerId must be 1 to 200 characters");
        }

        if (request.LeaseSeconds is < 0 or > 86_400)
        {
            return IngestProblems.InvalidBody("a ClaimRequest JSON object", "leaseSeconds must be from 0 to 86400");
        }

        if (await leases.ClaimAsync(id, request.WorkerId, request.LeaseSeconds, http.RequestAborted) is not { } claim)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (claim.HeldUntil is { } until)
        {
            IngestTelemetry.RefusedClaims.Add(1);
            return IngestProblems.LeaseHeld(id, until, until - DateTimeOffset.UtcNow);
        }

        var d = claim.Document;
        if (d.Status == DocumentStatus.AwaitingScan)
        {
            // Never processed before it is found clean (Req AV-1); the scan enqueues it again.
            return IngestProblems.DocumentNotScanned(id);
        }

        return TypedResults.Ok(new ClaimResponse(d.Id, d.FileName, d.Status, d.LeaseToken, d.SizeBytes, claim.CheckpointedStages, d.LastError, d.ProcessingMs,
            d.DocumentOptions));
    }

    /// <summary>Heartbeat: renews the lease and tells the worker the document's status (it stops when cancelled).</summary>
    private static async Task<IResult> RenewLeaseAsync(string id, HttpContext http, [FromServices] JobLeases leases)
    {
        if (Validate(id, null, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var renewal = await leases.RenewLeaseAsync(id, lease, http.RequestAborted);
        return renewal.Outcome switch
        {
            LeaseWrite.Done or LeaseWrite.Terminal => TypedResults.Ok(new LeaseStatus(id, renewal.Document!.Status, renewal.Document.LeaseToken)),
            LeaseWrite.NotFound => IngestProblems.DocumentNotFound(id),
            _ => StaleLease(id, http),
        };
    }

    /// <summary>The attempt failed transiently; the worker has put the job in the retry set.</summary>
    private static async Task<IResult> ReleaseAsync(string id, HttpContext http, [FromServices] JobLeases leases)
    {
        if (Validate(id, null, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var (report, problem) = await ReadJsonAsync<ReleaseReport>(http, "a ReleaseReport JSON object { \"reason\", \"retryAt\" }", 256 * 1024);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(report!.Reason))
        {
            return IngestProblems.InvalidBody("a ReleaseReport JSON object", "reason is required");
        }

        var reason = report.Reason.Length > 4000 ? report.Reason[..4000] : report.Reason;
        var outcome = await leases.ReleaseAsync(id, lease, reason, report.RetryAt, http.RequestAborted);
        return Answer(outcome, id, http, () => TypedResults.NoContent());
    }

    private static async Task<IResult> GetEventsAsync(string id, [FromServices] DocumentHistory history, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await history.EventsAsync(id, cancellationToken) is not { } events)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        return TypedResults.Ok(events);
    }

    private static async Task<IResult> GetContentAsync(string id, [FromServices] DocumentReads reads, [FromServices] BlobStore blobs, CancellationToken cancellationToken)
    {
        if (!DocumentId.IsValid(id) || await reads.FindAsync(id, cancellationToken) is not { } document)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        switch (document.Status)
        {
            case DocumentStatus.AwaitingScan:
                return IngestProblems.DocumentNotScanned(id);
            case DocumentStatus.Rejected:
                return IngestProblems.DocumentTerminal(id, document.Status);
        }

        var path = blobs.UploadPath(id);
        if (File.Exists(path))
        {
            return TypedResults.PhysicalFile(path, "application/pdf");
        }

        // The root is there, the file is not: this document's loss, not an outage (the worker's retries end dead-lettered).
        blobs.EnsurePresent();
        return IngestProblems.UploadMissing(id);
    }

    private static async Task<IResult> ReportStageAsync(string id, string stage, HttpContext http, [FromServices] StageReports stages)
    {
        if (Validate(id, stage, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var (report, problem) = await ReadJsonAsync<StageReport>(http, "a StageReport JSON object { \"status\": \"...\", \"detail\": \"...\" }", 256 * 1024);
        if (problem is not null)
        {
            return problem;
        }

        if (report!.Status is null || !StageStatus.IsKnown(report.Status))
        {
            return IngestProblems.InvalidStageStatus(report.Status);
        }

        var detail = report.Detail is { Length: > 4000 } full ? full[..4000] : report.Detail;
        var outcome = await stages.RecordStageAsync(id, lease, stage, report.Status, detail, http.RequestAborted);
        return Answer(outcome, id, http, () => TypedResults.NoContent());
    }

    private static async Task<IResult> PutCheckpointAsync(
        string id,
        string stage,
        HttpContext http,
        [FromServices] DocumentReads reads,
        [FromServices] LeaseFence fence,
        [FromServices] CatalogCheckpoints checkpoints,
        [FromServices] BlobStore blobs,
        [FromServices] IOptions<IngestOptions> options,
        [FromServices] TimeProvider time)
    {
        if (Validate(id, stage, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var schemaHeader = http.Request.Headers[InternalApi.CheckpointSchemaHeader].ToString();
        var schema = 0;
        if (schemaHeader.Length > 0 && (!int.TryParse(schemaHeader, NumberStyles.None, CultureInfo.InvariantCulture, out schema) || schema > 1_000_000))
        {
            return IngestProblems.InvalidCheckpointSchema(schemaHeader);
        }

        // The fingerprint of the options the checkpoint was made under (absent from workers before options: the defaults).
        var optionsFingerprint = http.Request.Headers[InternalApi.CheckpointOptionsHeader].ToString();
        if (optionsFingerprint.Length > 64 || optionsFingerprint.Any(c => !char.IsAsciiHexDigitLower(c)))
        {
            return IngestProblems.InvalidBody("an X-Checkpoint-Options header of lowercase hex", "the header is not a fingerprint");
        }

        // Refuse a stale writer before reading its body; the commit below checks again under the write lock.
        if (await reads.FindAsync(id, http.RequestAborted) is not { } document)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (document.LeaseToken != lease)
        {
            await fence.RecordStaleLeaseAsync(id, lease, $"checkpoint {stage}", http.RequestAborted);
            return StaleLease(id, http);
        }

        var maxBytes = RaiseBodyLimit(http, options.Value.MaxWorkerBodyBytes);
        var finalPath = blobs.CheckpointPath(id, stage);
        blobs.EnsurePresent();
        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        var tempPath = BlobStore.SiblingTempPath(finalPath);
        try
        {
            // Atomic replace: the envelope (header + payload) goes to a temp file beside the checkpoint, is flushed to
            // disk, then renamed over it under the catalog's write lock, so a reader sees the old or the new, whole.
            var written = await CheckpointEnvelope.WriteAsync(http.Request.Body, tempPath, id, stage, schema, lease, time.GetUtcNow(), maxBytes, http.RequestAborted);
            if (written.Status == BlobWriteStatus.TooLarge)
            {
                return IngestProblems.BodyTooLarge(maxBytes);
            }

            var outcome = await checkpoints.CommitCheckpointAsync(
                id, lease, stage, schema, written.Sha256, written.SizeBytes, () => File.Move(tempPath, finalPath, overwrite: true), http.RequestAborted,
                optionsFingerprint.Length == 0 ? null : optionsFingerprint);
            return Answer(outcome, id, http, () =>
            {
                http.Response.Headers[ChecksumHeader] = written.Sha256;
                return TypedResults.NoContent();
            });
        }
        finally
        {
            BlobStore.DeleteQuietly(tempPath);
        }
    }

    /// <summary>Header carrying a checkpoint's SHA-256 (lowercase hex) as the catalog recorded it.</summary>
    public const string ChecksumHeader = InternalApi.ChecksumHeader;

    /// <summary>
    /// Serves a checkpoint's payload after checking its envelope (CK-2, CK-3): one that is truncated, damaged, of
    /// another document or stage, or of a schema version the worker does not read is moved to quarantine, forgotten
    /// by the catalog and answered 404 checkpoint_quarantined, so the worker recomputes that stage from the
    /// checkpoints before it.
    /// </summary>
    private static async Task<IResult> GetCheckpointAsync(
        string id,
        string stage,
        HttpContext http,
        [FromServices] CatalogCheckpoints checkpoints,
        [FromServices] DocumentReads reads,
        [FromServices] BlobStore blobs,
        [FromServices] TimeProvider time,
        [FromServices] ILoggerFactory loggers)
    {
        if (!DocumentId.IsValid(id))
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (!PipelineStageNames.All.Contains(stage))
        {
            return IngestProblems.UnknownStage(stage);
        }

        var schemaHeader = http.Request.Headers[InternalApi.CheckpointSchemaHeader].ToString();
        int? accept = null;
        if (schemaHeader.Length > 0)
        {
            if (!int.TryParse(schemaHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed > 1_000_000)
            {
                return IngestProblems.InvalidCheckpointSchema(schemaHeader);
            }

            accept = parsed;
        }

        if (await checkpoints.FindCheckpointAsync(id, stage, http.RequestAborted) is not { } checkpoint)
        {
            return await reads.FindAsync(id, http.RequestAborted) is null
                ? IngestProblems.DocumentNotFound(id)
                : IngestProblems.CheckpointNotFound(id, stage);
        }

        // A checkpoint of other options than the worker's is not its to resume from (Req FMT-4): not found, not damaged.
        if (http.Request.Headers[InternalApi.CheckpointOptionsHeader].ToString() is { Length: > 0 } wanted && !checkpoint.MadeUnder(wanted))
        {
            return IngestProblems.CheckpointNotFound(id, stage);
        }

        var check = await CheckpointEnvelope.OpenAsync(blobs.CheckpointPath(id, stage), id, stage, checkpoint.Sha256, accept, http.RequestAborted);
        if (check.Problem is { } problem)
        {
            // A checkpoint "missing" from a storage root that is gone is not damaged: 503, nothing quarantined.
            blobs.EnsurePresent();
            var at = time.GetUtcNow();
            string? quarantinedAt = null;
            var quarantined = await checkpoints.QuarantineCheckpointAsync(id, stage, checkpoint.Sha256, problem,
                () => quarantinedAt = blobs.Quarantine(id, stage, problem, at), http.RequestAborted);
            if (quarantined)
            {
                IngestTelemetry.QuarantinedCheckpoints.Add(1, new KeyValuePair<string, object?>("stage", stage));
                LogQuarantined(loggers.CreateLogger("IngestService.Checkpoints"), id, stage, problem, quarantinedAt ?? "(file missing)");
            }

            return IngestProblems.CheckpointQuarantined(id, stage, problem);
        }

        // The worker verifies the bytes against this checksum before trusting them.
        http.Response.Headers[ChecksumHeader] = checkpoint.Sha256;
        http.Response.Headers[InternalApi.CheckpointSchemaHeader] = check.Header!.SchemaVersion.ToString(CultureInfo.InvariantCulture);
        http.Response.ContentLength = check.Header.SizeBytes;
        var payload = check.Payload!;
        http.Response.RegisterForDisposeAsync(payload);
        // Copied from the validated handle, from the payload's first byte (a stream result would send the file from 0).
        return TypedResults.Stream(body => payload.CopyToAsync(body, http.RequestAborted), "application/octet-stream");
    }

    private static async Task<IResult> PutResultAsync(
        string id,
        HttpContext http,
        [FromServices] DocumentReads reads,
        [FromServices] LeaseFence fence,
        [FromServices] DocumentCompletion completion,
        [FromServices] BlobStore blobs,
        [FromServices] ChunkFiles chunkFiles,
        [FromServices] IOptions<IngestOptions> options)
    {
        if (Validate(id, null, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var maxBytes = RaiseBodyLimit(http, options.Value.MaxWorkerBodyBytes);
        var (submission, problem) = await ReadJsonAsync<ResultSubmission>(http, "a ResultSubmission JSON object { \"json\", \"markdown\", \"text\", \"html\" (optional) }", maxBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (submission!.Json is null || submission.Markdown is null || submission.Text is null)
        {
            return IngestProblems.InvalidBody("a ResultSubmission JSON object", "json, markdown and text are all required");
        }

        try
        {
            using var _ = JsonDocument.Parse(submission.Json);
        }
        catch (JsonException ex)
        {
            return IngestProblems.InvalidBody("a ResultSubmission whose json is a JSON document", ex.Message);
        }

        var contents = new Dictionary<ResultFormat, byte[]>
        {
            [ResultFormat.Json] = Encoding.UTF8.GetBytes(submission.Json),
            [ResultFormat.Markdown] = Encoding.UTF8.GetBytes(submission.Markdown),
            [ResultFormat.Text] = Encoding.UTF8.GetBytes(submission.Text),
        };

        // A worker of the version before HTML submits none: the document completes without it.
        if (submission.Html is not null)
        {
            contents[ResultFormat.Html] = Encoding.UTF8.GetBytes(submission.Html);
        }

        var resultSha = ResultChecksum(contents);

        // Cheap answers first: unknown, stale, or the same result again (idempotent, nothing written).
        if (await reads.FindAsync(id, http.RequestAborted) is not { } document)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (document.LeaseToken != lease)
        {
            await fence.RecordStaleLeaseAsync(id, lease, "result", http.RequestAborted);
            return StaleLease(id, http);
        }

        if (document.Status == DocumentStatus.Completed)
        {
            return document.ResultSha256 == resultSha ? Completed(id, resultSha) : IngestProblems.ResultConflict(id);
        }

        var temps = new Dictionary<ResultFormat, string>();
        (string Temp, string Target)? chunks = null;
        blobs.EnsurePresent();
        try
        {
            foreach (var (format, bytes) in contents)
            {
                temps[format] = await BlobStore.WriteSiblingTempAsync(blobs.ResultPath(id, format), bytes, http.RequestAborted);
            }

            // Chunks asked for at upload are stored with the result (not part of its checksum: they derive from it).
            chunks = await chunkFiles.PrepareAsync(id, document.DocumentOptions, submission.Json, http.RequestAborted);
            var outcome = await completion.CompleteAsync(id, lease, resultSha, () =>
            {
                foreach (var (format, temp) in temps)
                {
                    File.Move(temp, blobs.ResultPath(id, format), overwrite: true);
                }

                if (chunks is { } made)
                {
                    File.Move(made.Temp, made.Target, overwrite: true);
                }
            }, http.RequestAborted);
            return Answer(outcome, id, http, () => Completed(id, resultSha));
        }
        finally
        {
            foreach (var temp in temps.Values)
            {
                BlobStore.DeleteQuietly(temp);
            }

            if (chunks is { } made)
            {
                BlobStore.DeleteQuietly(made.Temp);
            }
        }
    }

    private static async Task<IResult> ReportFailureAsync(string id, HttpContext http, [FromServices] DocumentCompletion completion)
    {
        if (Validate(id, null, http, out var lease) is { } invalid)
        {
            return invalid;
        }

        var (report, problem) = await ReadJsonAsync<FailureReport>(http, "a FailureReport JSON object { \"code\", \"message\" }", 256 * 1024);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(report!.Code) || report.Code.Length > 100 || string.IsNullOrWhiteSpace(report.Message))
        {
            return IngestProblems.InvalidBody("a FailureReport JSON object", "code (1 to 100 characters) and message are required");
        }

        var message = report.Message.Length > 4000 ? report.Message[..4000] : report.Message;
        var outcome = await completion.FailAsync(id, lease, report.Code, message, http.RequestAborted);
        return Answer(outcome, id, http, () => TypedResults.Ok(new WorkerWriteAnswer(id, DocumentStatus.Failed, null)));
    }

    /// <summary>Common checks of a lease-fenced write: a valid id, a known stage, a lease token header (also used by the artifact endpoints).</summary>
    internal static IResult? Validate(string id, string? stage, HttpContext http, out long lease)
    {
        lease = 0;
        if (!DocumentId.IsValid(id))
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (stage is not null && !PipelineStageNames.All.Contains(stage))
        {
            return IngestProblems.UnknownStage(stage);
        }

        var header = http.Request.Headers[InternalApi.LeaseTokenHeader].ToString();
        if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out lease) || lease <= 0)
        {
            return StaleLease(id, http);
        }

        return null;
    }

    internal static IResult Answer(LeaseWrite outcome, string id, HttpContext http, Func<IResult> done) => outcome switch
    {
        LeaseWrite.Done or LeaseWrite.AlreadyDone => done(),
        LeaseWrite.NotFound => IngestProblems.DocumentNotFound(id),
        LeaseWrite.StaleLease => StaleLease(id, http),
        LeaseWrite.Conflict => IngestProblems.ResultConflict(id),
        _ => IngestProblems.DocumentTerminal(id, "finished"),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint {Stage} of document {DocumentId} failed validation and was quarantined at {Path}: {Reason}")]
    private static partial void LogQuarantined(ILogger logger, string documentId, string stage, string reason, string path);

    private static IResult StaleLease(string id, HttpContext http)
    {
        IngestTelemetry.StaleLeases.Add(1);
        return IngestProblems.StaleLease(id, http.Request.Headers[InternalApi.LeaseTokenHeader].ToString());
    }

    private static IResult Completed(string id, string resultSha) => TypedResults.Ok(new WorkerWriteAnswer(id, DocumentStatus.Completed, resultSha));

    /// <summary>One checksum over the submitted renderings, each length-prefixed so that boundaries cannot shift.</summary>
    private static string ResultChecksum(Dictionary<ResultFormat, byte[]> contents)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Formats a submission left out are not hashed, so a submission without HTML keeps the checksum it had
        // before HTML existed (a replay by a worker of that version is still recognised as the same result).
        foreach (var format in ResultFormat.All.Where(contents.ContainsKey))
        {
            var bytes = contents[format];
            hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static long RaiseBodyLimit(HttpContext http, long maxBytes)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        return maxBytes;
    }

    internal static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext http, string what, long maxBytes)
        where T : class
    {
        if (!http.Request.HasJsonContentType())
        {
            return (null, IngestProblems.InvalidBody(what, "send it with Content-Type: application/json"));
        }

        if (http.Request.ContentLength > maxBytes)
        {
            return (null, IngestProblems.BodyTooLarge(maxBytes));
        }

        try
        {
            var value = await http.Request.ReadFromJsonAsync<T>(Json, http.RequestAborted);
            return value is null ? (null, IngestProblems.InvalidBody(what, "the body is empty or null")) : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, IngestProblems.InvalidBody(what, ex.Message));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, IngestProblems.BodyTooLarge(maxBytes));
        }
    }
}

/// <summary>Answer to a completed result or a recorded failure.</summary>
internal sealed record WorkerWriteAnswer(string DocumentId, string Status, string? ResultSha256);

