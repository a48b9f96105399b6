namespace IngestService.Catalog;

/// <summary>
/// The catalog's queries in one place, so the index test can EXPLAIN each of them (Req DB-5). Every value is a
/// bound parameter (Req IN-8); nothing a client sends is ever concatenated into SQL.
/// </summary>
internal static class CatalogSql
{
    public const string DocumentColumns =
        "id, file_name, sha256, size_bytes, status, created_at, updated_at, error_code, error_message, lease_token, enqueued_at, job_entry_id, result_sha256, " +
        "lease_owner, lease_expires_at, last_error, retries, lease_seconds, processing_ms, attempt_started_at, active_at, priority, source_url, format, options, " +
        "retain_seconds, expires_at";

    public const string SelectDocument = "SELECT " + DocumentColumns + " FROM documents WHERE id = @id;";

    public const string SelectStages =
        "SELECT name, status, started_at, finished_at, detail FROM document_stages WHERE document_id = @id;";

    public const string SelectStage =
        "SELECT status, started_at FROM document_stages WHERE document_id = @id AND name = @name;";

    public const string ListFirstPage =
        "SELECT " + DocumentColumns + " FROM documents ORDER BY created_at DESC, id DESC LIMIT @limit;";

    public const string ListAfterCursor =
        "SELECT " + DocumentColumns + " FROM documents WHERE (created_at, id) < (@created_at, @id) " +
        "ORDER BY created_at DESC, id DESC LIMIT @limit;";

    public const string SelectNeverEnqueued =
        "SELECT id FROM documents WHERE status = @status AND enqueued_at IS NULL AND created_at < @before ORDER BY created_at LIMIT @limit;";

    /// <summary>Unfinished documents of one status, enqueued at some point, without a sign of life since @before.</summary>
    public const string SelectInactive =
        "SELECT id FROM documents WHERE status = @status AND active_at < @before AND enqueued_at IS NOT NULL ORDER BY active_at LIMIT @limit;";

    public const string SelectCheckpoint =
        "SELECT sha256, size_bytes, lease_token, created_at, schema_version, options_fingerprint FROM checkpoints WHERE document_id = @id AND stage = @stage;";

    public const string DeleteCheckpoint = "DELETE FROM checkpoints WHERE document_id = @id AND stage = @stage;";

    public const string SelectStagesWithStatus = "SELECT name FROM document_stages WHERE document_id = @id AND status = @status;";

    public const string SelectEvents =
        "SELECT seq, at, kind, stage, lease_token, worker, detail FROM document_events WHERE document_id = @id ORDER BY seq;";

    public const string InsertEvent =
        "INSERT INTO document_events (document_id, at, kind, stage, lease_token, worker, detail) " +
        "VALUES (@id, @at, @kind, @stage, @lease, @worker, @detail);";

    public const string SelectCheckpointStages = "SELECT stage, options_fingerprint FROM checkpoints WHERE document_id = @id;";

    public const string InsertDocument =
        "INSERT INTO documents (id, file_name, sha256, size_bytes, status, created_at, updated_at, active_at, trace_parent, priority, client, source_url, format, options, retain_seconds) " +
        "VALUES (@id, @file_name, @sha256, @size_bytes, @status, @now, @now, @now, @trace_parent, @priority, @client, @source_url, @format, @options, @retain_seconds);";

    /// <summary>The W3C traceparent of the request that uploaded the document (null for documents from before migration 4).</summary>
    public const string SelectTraceParent = "SELECT trace_parent FROM documents WHERE id = @id;";

    public const string InsertStage =
        "INSERT INTO document_stages (document_id, name, status) VALUES (@id, @name, @status);";

    public const string MarkEnqueued =
        "UPDATE documents SET enqueued_at = @at, job_entry_id = @entry, active_at = @at WHERE id = @id AND status = @status;";

    /// <summary>The sweeper put a lost job back: queued or processing (its worker is gone) both stay as they are.</summary>
    public const string MarkRequeued =
        "UPDATE documents SET enqueued_at = @at, job_entry_id = @entry, active_at = @at WHERE id = @id AND status IN (@queued, @processing);";

    public const string Claim =
        "UPDATE documents SET lease_token = lease_token + 1, lease_owner = @owner, status = @status, updated_at = @now, active_at = @now, " +
        "lease_seconds = @lease_seconds, lease_expires_at = @expires, last_error = @last_error, " +
        "processing_ms = processing_ms + @carried_ms, attempt_started_at = @now WHERE id = @id RETURNING lease_token;";

    public const string RenewLease = "UPDATE documents SET lease_expires_at = @expires, active_at = @now WHERE id = @id;";

    /// <summary>A transient failure: back to queued (the job waits for its retry), lease ended, the reason kept.</summary>
    public const string Release =
        "UPDATE documents SET status = @status, last_error = @last_error, lease_expires_at = NULL, updated_at = @now, active_at = @now, " +
        "processing_ms = processing_ms + @attempt_ms, attempt_started_at = NULL WHERE id = @id;";

    public const string ResetStagesWithStatus =
        "UPDATE document_stages SET status = @new_status, finished_at = NULL, detail = @detail WHERE document_id = @id AND status = @status;";

    public const string Cancel =
        "UPDATE documents SET status = @status, error_code = @code, error_message = @message, lease_expires_at = NULL, " +
        "updated_at = @now, active_at = @now WHERE id = @id;";

    public const string SkipUnfinishedStages =
        "UPDATE document_stages SET status = @skipped, detail = @detail, finished_at = @now WHERE document_id = @id AND status IN (@pending, @running);";

    /// <summary>A failed or cancelled document queued again; its checkpoints stay, so it resumes from the last valid one.</summary>
    public const string Retry =
        "UPDATE documents SET status = @status, error_code = NULL, error_message = NULL, retries = retries + 1, enqueued_at = NULL, " +
        "job_entry_id = NULL, lease_expires_at = NULL, updated_at = @now, active_at = @now, processing_ms = 0, attempt_started_at = NULL WHERE id = @id;";

    /// <summary>On retry, every stage without a checkpoint is pending again (those with one are skipped by the worker).</summary>
    public const string ResetStagesWithoutCheckpoint =
        "UPDATE document_stages SET status = @status, started_at = NULL, finished_at = NULL, detail = NULL " +
        "WHERE document_id = @id AND name NOT IN (SELECT stage FROM checkpoints WHERE document_id = @id);";

    public const string UpsertStage =
        "INSERT INTO document_stages (document_id, name, status, started_at, finished_at, detail) " +
        "VALUES (@id, @name, @status, @started_at, @finished_at, @detail) " +
        "ON CONFLICT (document_id, name) DO UPDATE SET status = excluded.status, started_at = excluded.started_at, " +
        "finished_at = excluded.finished_at, detail = excluded.detail;";

    public const string Touch = "UPDATE documents SET updated_at = @now, active_at = @now WHERE id = @id;";

    public const string UpsertCheckpoint =
        "INSERT INTO checkpoints (document_id, stage, sha256, size_bytes, created_at, lease_token, schema_version, options_fingerprint) " +
        "VALUES (@id, @stage, @sha256, @size_bytes, @now, @lease, @schema, @options_fingerprint) " +
        "ON CONFLICT (document_id, stage) DO UPDATE SET sha256 = excluded.sha256, size_bytes = excluded.size_bytes, " +
        "created_at = excluded.created_at, lease_token = excluded.lease_token, schema_version = excluded.schema_version, " +
        "options_fingerprint = excluded.options_fingerprint;";

    public const string Complete =
        "UPDATE documents SET status = @status, result_sha256 = @result_sha256, error_code = NULL, error_message = NULL, " +
        "lease_expires_at = NULL, updated_at = @now, active_at = @now WHERE id = @id AND lease_token = @lease;";

    public const string Fail =
        "UPDATE documents SET status = @status, error_code = @code, error_message = @message, lease_expires_at = NULL, " +
        "updated_at = @now, active_at = @now WHERE id = @id AND lease_token = @lease;";
}
