using System.Globalization;
using IngestService.Documents;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Api;

/// <summary>Every problem this service answers with: a stable code and a message that says what to do.</summary>
internal static class IngestProblems
{
    public const string FilePart = "file";

    public static IResult MissingFile(string why) => ApiProblem.Result(400, "missing_file", "No file in the upload",
        $"{why} Send the PDF as multipart/form-data in a part named '{FilePart}'.",
        extensions: Field(FilePart));

    public static IResult MalformedUpload(string why) => ApiProblem.Result(400, "malformed_multipart", "The upload could not be read",
        $"The multipart body could not be read to its end ({why}). Send the whole file again as multipart/form-data in a part named '{FilePart}'.");

    public static IResult EmptyFile() => ApiProblem.Result(400, "empty_file", "The uploaded file is empty",
        $"The part '{FilePart}' has 0 bytes. Upload a file that has content.", extensions: Field(FilePart));

    public static IResult UnsupportedFormat() => ApiProblem.Result(415, "unsupported_format", "The uploaded file's format is not one the suite reads",
        "The file's bytes are none of the formats the suite reads: PDF, PNG, JPEG, TIFF, WebP, DOCX, PPTX, HTML or Markdown " +
        "(recognised by content: the file name and declared content type are not trusted; text is taken as Markdown only when it " +
        "shows some Markdown structure, such as a heading, a list or a table). Upload the document in one of these formats.",
        extensions: new Dictionary<string, object?> { ["formats"] = Suite.Contracts.DocumentFormats.All });

    public static IResult FileTooLarge(long maxBytes) => ApiProblem.Result(413, "file_too_large", "The uploaded file is too large",
        $"The upload exceeds the limit of {maxBytes.ToString(CultureInfo.InvariantCulture)} bytes ({Mib(maxBytes)} MiB); " +
        "nothing was stored. Upload a smaller file or split the document.",
        extensions: new Dictionary<string, object?> { ["maxBytes"] = maxBytes });

    public static IResult MalwareDetected(string id, string signature) => ApiProblem.Result(422, "malware_detected", "Malware found in the upload",
        $"The malware scanner found '{Clip(signature)}' in the uploaded file. The file was deleted and document {id} is rejected: it will not be " +
        "processed. Upload a clean file; if this file is clean, report the signature name to the operators.",
        extensions: new Dictionary<string, object?>
        {
            ["documentId"] = id,
            ["status"] = Suite.Contracts.DocumentStatus.Rejected,
            ["signature"] = signature,
            ["links"] = DocumentLinks.For(id),
        });

    public static IResult ScannerUnavailable(string reason, TimeSpan retryAfter) => ApiProblem.Result(503, "scanner_unavailable", "Malware scanner unavailable",
        $"Every upload is scanned for malware before it is accepted, and the scanner cannot answer now ({reason}). Nothing was stored. " +
        "Upload the file again after the Retry-After delay.",
        retryable: true, retryAfter: retryAfter);

    public static IResult DocumentNotScanned(string id) => ApiProblem.Result(409, "document_not_scanned", "Document not scanned yet",
        $"Document {id} is awaiting its malware scan and cannot be processed before it is found clean. Put the job back: " +
        "the document is enqueued again once it is clean (or rejected).",
        retryable: true, retryAfter: TimeSpan.FromSeconds(30),
        extensions: new Dictionary<string, object?> { ["status"] = Suite.Contracts.DocumentStatus.AwaitingScan });

    public static IResult DocumentNotFound(string id) => ApiProblem.Result(404, "document_not_found", "Document not found",
        $"No document has the id '{Clip(id)}'. Use the id returned by the upload (32 lowercase hex characters).");

    public static IResult InvalidLimit(string? value, int max) => ApiProblem.Result(400, "invalid_limit", "Invalid page size",
        $"The query parameter 'limit' must be a whole number from 1 to {max.ToString(CultureInfo.InvariantCulture)}; it was '{Clip(value)}'.",
        extensions: Parameter("limit"));

    public static IResult InvalidCursor() => ApiProblem.Result(400, "invalid_cursor", "Invalid cursor",
        "The query parameter 'cursor' is not a cursor this service issued. Pass the nextCursor of the previous page unchanged, " +
        "or leave it out to start from the newest document.",
        extensions: Parameter("cursor"));

    public static IResult InvalidFormat(string? value) => ApiProblem.Result(400, "invalid_format", "Unknown result format",
        $"The query parameter 'format' must be one of {string.Join(", ", Storage.ResultFormat.Names)}; it was '{Clip(value)}'.",
        extensions: new Dictionary<string, object?> { ["parameter"] = "format", ["allowed"] = Storage.ResultFormat.Names });

    public static IResult ResultFormatUnavailable(string id, string format) => ApiProblem.Result(404, "result_format_unavailable", "Result format not available",
        $"Document {id} was completed by a worker that did not produce the {format} rendering; its other formats are there. " +
        $"Ask for another format (json, markdown or text), or upload the document again to get {format}.",
        extensions: new Dictionary<string, object?> { ["format"] = format });

    public static IResult InvalidPriority(string? value) => ApiProblem.Result(400, "invalid_priority", "Unknown priority",
        $"The query parameter '{PriorityParameter.Name}' must be one of {string.Join(", ", Suite.Contracts.JobPriority.All)} " +
        $"(leave it out for {Suite.Contracts.JobPriority.Interactive}); it was '{Clip(value)}'. Nothing was stored.",
        extensions: new Dictionary<string, object?> { ["parameter"] = PriorityParameter.Name, ["allowed"] = Suite.Contracts.JobPriority.All });

    public static IResult InvalidPurge(string? value) => ApiProblem.Result(400, "invalid_purge", "Unknown purge value",
        $"The query parameter 'purge' of DELETE must be true or false (leave it out for false); it was '{Clip(value)}'. Nothing was changed.",
        extensions: new Dictionary<string, object?> { ["parameter"] = "purge", ["allowed"] = new[] { "true", "false" } });

    public static IResult ResultNotReady(string id, string status) => ApiProblem.Result(409, "result_not_ready", "Result not ready",
        $"Document {id} is {status}; its result is not ready yet. Poll GET {DocumentRoutes.Self(id)} until its status is completed, then ask again.",
        retryable: true, retryAfter: TimeSpan.FromSeconds(5),
        extensions: new Dictionary<string, object?> { ["status"] = status });

    public static IResult NoResult(string id, string status, string? code, string? message) => ApiProblem.Result(409, "no_result", "No result",
        $"Document {id} is {status} and has no result" + (code is null ? "." : $": {code}: {message}") +
        (status == Suite.Contracts.DocumentStatus.Rejected
            ? " A rejected document is never processed. Upload a clean file."
            : $" Fix the cause and POST {DocumentRoutes.Self(id)}/retry (it resumes from its last valid checkpoint), or upload the document again."),
        extensions: new Dictionary<string, object?>
        {
            ["status"] = status,
            ["error"] = code is null ? null : new { code, message },
        });

    public static IResult ResultMissing(string id) => ApiProblem.Result(500, "result_missing", "Result file missing",
        $"Document {id} is completed but its result file is missing from storage. This was logged; report the trace id.");

    public static IResult UploadMissing(string id) => ApiProblem.Result(500, "upload_missing", "Uploaded file missing",
        $"The uploaded file of document {id} is missing from storage (the storage root itself is there). This was logged; report the trace id.");

    public static IResult StaleLease(string id, string? presented) => ApiProblem.Result(409, "stale_lease", "Stale lease",
        $"Lease token '{Clip(presented)}' is not the current lease of document {id}: another worker owns this document now. " +
        "Stop processing it and acknowledge the job.");

    public static IResult UnknownStage(string? stage) => ApiProblem.Result(400, "unknown_stage", "Unknown stage",
        $"'{Clip(stage)}' is not a pipeline stage. Use one of: {string.Join(", ", Suite.Contracts.PipelineStageNames.All)}.");

    public static IResult InvalidStageStatus(string? status) => ApiProblem.Result(400, "invalid_stage_status", "Unknown stage status",
        $"'{Clip(status)}' is not a stage status. Use one of: pending, running, completed, degraded, skipped, failed.");

    public static IResult InvalidBody(string what, string why) => ApiProblem.Result(400, "invalid_body", "Invalid request body",
        $"The body must be {what} ({why}).");

    public static IResult BodyTooLarge(long maxBytes) => ApiProblem.Result(413, "body_too_large", "Request body too large",
        $"The body exceeds the limit of {maxBytes.ToString(CultureInfo.InvariantCulture)} bytes (Ingest:MaxWorkerBodyBytes).",
        extensions: new Dictionary<string, object?> { ["maxBytes"] = maxBytes });

    public static IResult DocumentTerminal(string id, string status) => ApiProblem.Result(409, "document_terminal", "Document already finished",
        $"Document {id} is already {status}; it cannot change any more. Acknowledge the job and move on.",
        extensions: new Dictionary<string, object?> { ["status"] = status });

    public static IResult ResultConflict(string id) => ApiProblem.Result(409, "result_conflict", "Document already completed",
        $"Document {id} was already completed with a different result; a document is never completed twice. Acknowledge the job.");

    public static IResult CheckpointNotFound(string id, string stage) => ApiProblem.Result(404, "checkpoint_not_found", "No checkpoint",
        $"Document {id} has no checkpoint for stage '{stage}'. Run the stage from its input.");

    public static IResult LeaseHeld(string id, DateTimeOffset until, TimeSpan remaining) => ApiProblem.Result(409, "lease_held", "Document is being processed",
        $"Document {id} is held by another worker whose lease is live until {until:O}; this delivery is a duplicate. " +
        "Acknowledge it: the owner finishes the document, and if the owner dies its own job is reclaimed.",
        retryable: true, retryAfter: remaining < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : remaining);

    public static IResult CheckpointQuarantined(string id, string stage, string reason) => ApiProblem.Result(404, "checkpoint_quarantined", "Checkpoint unusable",
        $"The checkpoint of stage '{stage}' of document {id} failed validation ({reason}) and was moved to quarantine. " +
        "Run the stage again from the checkpoints before it.",
        extensions: new Dictionary<string, object?> { ["stage"] = stage, ["reason"] = reason });

    public static IResult InvalidCheckpointSchema(string? value) => ApiProblem.Result(400, "invalid_checkpoint_schema", "Invalid checkpoint schema version",
        $"The header {Suite.Contracts.InternalApi.CheckpointSchemaHeader} must be a whole number from 0 to 1000000; it was '{Clip(value)}'.");

    public static IResult CannotCancel(string id, string status) => ApiProblem.Result(409, "cannot_cancel", "Document already finished",
        $"Document {id} is already {status}; there is nothing left to cancel.",
        extensions: new Dictionary<string, object?> { ["status"] = status });

    public static IResult NotRetryable(string id, string status) => ApiProblem.Result(409, "not_retryable", "Document cannot be retried",
        status switch
        {
            Suite.Contracts.DocumentStatus.Completed => $"Document {id} is completed; there is nothing to retry. Fetch its result.",
            Suite.Contracts.DocumentStatus.Rejected => $"Document {id} was rejected by the malware scan; it is never processed. Upload a clean file.",
            Suite.Contracts.DocumentStatus.AwaitingScan => $"Document {id} is awaiting its malware scan; it is processed once found clean. Nothing to retry.",
            _ => $"Document {id} is {status}: it is still in the queue or being processed. Retry only a failed or cancelled document.",
        },
        extensions: new Dictionary<string, object?> { ["status"] = status });

    public static IResult CatalogUnavailable(string reason) => ApiProblem.Result(503, "catalog_unavailable", "Catalog unavailable",
        $"The document catalog cannot be used: {reason} Nothing was changed; try again later.", retryable: true, retryAfter: TimeSpan.FromSeconds(30));

    public static IResult CatalogBusy() => ApiProblem.Result(503, "catalog_busy", "Catalog busy",
        "The document catalog stayed locked by other writes; nothing was changed. Try again in a moment.", retryable: true, retryAfter: TimeSpan.FromSeconds(1));

    public static IResult InsufficientStorage(TimeSpan? retryAfter = null) => ApiProblem.Result(507, "insufficient_storage", "Storage full",
        "The server's storage is full; nothing was stored. Try again later, after space was freed.", retryable: true, retryAfter: retryAfter ?? TimeSpan.FromSeconds(60));

    /// <summary>Read-only mode (Req CB-5): 507 when the cause is a full disk, else 503 <c>catalog_read_only</c>; Retry-After is the next probe.</summary>
    public static IResult CatalogReadOnly(DatabaseReadOnlyException refusal) => refusal.DiskFull
        ? InsufficientStorage(refusal.RetryAfter)
        : ApiProblem.Result(503, "catalog_read_only", "Catalog in read-only mode",
            $"The catalog is in read-only mode because writes failed: {refusal.Reason}. Nothing was changed. Reads still work; " +
            $"retry after {Seconds(refusal.RetryAfter)} s, when the next write probes whether writing works again.",
            retryable: true, retryAfter: refusal.RetryAfter,
            extensions: new Dictionary<string, object?> { ["readOnly"] = true, ["reason"] = refusal.Reason });

    public static IResult StorageUnavailable(string reason) => ApiProblem.Result(503, "storage_unavailable", "Storage unavailable",
        $"The server could not write or read its storage ({reason}); nothing was stored. Try again later.", retryable: true, retryAfter: TimeSpan.FromSeconds(10));

    public static IResult QueueFull(long queued, int limit, TimeSpan retryAfter) => ApiProblem.Result(429, "queue_full", "Too many documents waiting",
        $"{queued.ToString(CultureInfo.InvariantCulture)} documents are waiting to be processed, the limit is {limit.ToString(CultureInfo.InvariantCulture)}; " +
        "nothing was stored. Send the upload again after Retry-After, when the queue has drained.",
        retryable: true, retryAfter: retryAfter,
        extensions: new Dictionary<string, object?> { ["queuedDocuments"] = queued, ["maxQueuedDocuments"] = limit });

    public static IResult DiskSpaceLow(long freeBytes, long minimumBytes) => ApiProblem.Result(507, "disk_space_low", "Storage nearly full",
        $"The storage has {Mib(freeBytes)} MiB free, under the {Mib(minimumBytes)} MiB kept in reserve for documents already accepted; " +
        "nothing was stored. Try again later; the operator has been alerted by the readiness details and metrics.",
        retryable: true, retryAfter: TimeSpan.FromSeconds(300),
        extensions: new Dictionary<string, object?> { ["freeDiskBytes"] = freeBytes, ["minFreeDiskBytes"] = minimumBytes });

    public static IResult MemoryPressure(double loadPercent, int limitPercent, TimeSpan retryAfter) => ApiProblem.Result(503, "memory_pressure", "Server under memory pressure",
        $"The service's memory load is {loadPercent.ToString("0.#", CultureInfo.InvariantCulture)}%, over its limit of " +
        $"{limitPercent.ToString(CultureInfo.InvariantCulture)}%, so it takes no new uploads for now; nothing was stored. Send the upload again after Retry-After.",
        retryable: true, retryAfter: retryAfter,
        extensions: new Dictionary<string, object?> { ["memoryLoadPercent"] = loadPercent, ["maxMemoryLoadPercent"] = limitPercent });

    public static IResult InvalidIdempotencyKey() => ApiProblem.Result(400, "invalid_idempotency_key", "Invalid Idempotency-Key",
        "The Idempotency-Key header must be one value of 1 to 200 visible ASCII characters (a UUID is a good key). Nothing was stored.",
        extensions: new Dictionary<string, object?> { ["header"] = "Idempotency-Key" });

    public static IResult IdempotencyKeyReused(string key, string documentId) => ApiProblem.Result(422, "idempotency_key_reused", "Idempotency-Key used for other content",
        $"The Idempotency-Key '{Clip(key)}' was already used for an upload with different content (document {documentId}). " +
        "Nothing was stored. Use a new key for a new file; retry with the same key only to resend the same file.",
        extensions: new Dictionary<string, object?> { ["header"] = "Idempotency-Key", ["documentId"] = documentId });

    public static IResult IdempotencyKeyOptionsDiffer(string key, string documentId) => ApiProblem.Result(422, "idempotency_key_reused", "Idempotency-Key used with other options",
        $"The Idempotency-Key '{Clip(key)}' was already used for an upload of this file with different pipeline options (document {documentId}); " +
        "a document's options are fixed. Nothing was stored. Use a new key to process the file with other options; retry with the same key only " +
        "to resend the same upload.",
        extensions: new Dictionary<string, object?> { ["header"] = "Idempotency-Key", ["documentId"] = documentId });

    /// <summary>An upload field (multipart) or JSON member that is neither the document nor one of the pipeline options.</summary>
    public static IResult UnknownOption(string field) => ApiProblem.Result(400, "unknown_option", "Unknown upload option",
        $"The upload has a field '{Clip(field)}', which is not an option. The options are {string.Join(", ", UploadOptions.Fields)} " +
        $"(beside the part '{FilePart}' or the JSON members url and fileName; the priority is the query parameter 'priority'). Nothing was stored.",
        extensions: new Dictionary<string, object?> { ["field"] = field, ["allowed"] = UploadOptions.Fields });

    /// <summary>A pipeline option with a value it cannot take (<paramref name="allowed"/>: its values, when they are a list).</summary>
    public static IResult InvalidOption(string field, string why, IReadOnlyList<string>? allowed = null) => ApiProblem.Result(400, "invalid_option", "Invalid upload option",
        $"The option '{field}' {why}" + (allowed is null ? "" : $" Allowed: {(allowed.Count == 0 ? "(none)" : string.Join(", ", allowed))}.") + " Nothing was stored.",
        extensions: allowed is null ? Field(field) : new Dictionary<string, object?> { ["field"] = field, ["allowed"] = allowed });

    public static IResult IdempotencyKeyInProgress() => ApiProblem.Result(409, "idempotency_key_in_progress", "Upload with this key in progress",
        "Another upload with this Idempotency-Key is still being stored. Retry in a moment to get its answer.",
        retryable: true, retryAfter: TimeSpan.FromSeconds(1));

    private static Dictionary<string, object?> Field(string name) => new() { ["field"] = name };

    private static Dictionary<string, object?> Parameter(string name) => new() { ["parameter"] = name };

    private static string Seconds(TimeSpan span) => ((int)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Client input echoed in a message, bounded.</summary>
    private static string Clip(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";
}
