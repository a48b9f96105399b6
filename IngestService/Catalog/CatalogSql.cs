namespace IngestService.Catalog;

/// <summary>
/// The catalog's queries in one place, so the index test can EXPLAIN each of them (Req DB-5). Every value is a
/// bound parameter (Req IN-8); nothing a client sends is ever concatenated into SQL.
/// </summary>
internal static class CatalogSql
{
    public const string DocumentColumns =
        "id, file_name, sha256, size_bytes, status, created_at, updated_at, error_code, error_message, lease_token, enqueued_at, job_entry_id, result_sha256";

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

    public const string SelectEnqueuedBefore =
        "SELECT id, job_entry_id FROM documents WHERE status = @status AND enqueued_at < @before ORDER BY enqueued_at LIMIT @limit;";

    public const string SelectCheckpoint =
        "SELECT sha256, size_bytes, lease_token, created_at FROM checkpoints WHERE document_id = @id AND stage = @stage;";

    public const string SelectCheckpointStages = "SELECT stage FROM checkpoints WHERE document_id = @id;";

    public const string InsertDocument =
        "INSERT INTO documents (id, file_name, sha256, size_bytes, status, created_at, updated_at) " +
        "VALUES (@id, @file_name, @sha256, @size_bytes, @status, @now, @now);";

    public const string InsertStage =
        "INSERT INTO document_stages (document_id, name, status) VALUES (@id, @name, @status);";

    public const string MarkEnqueued =
        "UPDATE documents SET enqueued_at = @at, job_entry_id = @entry WHERE id = @id AND status = @status;";

    public const string Claim =
        "UPDATE documents SET lease_token = lease_token + 1, lease_owner = @owner, status = @status, updated_at = @now " +
        "WHERE id = @id RETURNING lease_token;";

    public const string UpsertStage =
        "INSERT INTO document_stages (document_id, name, status, started_at, finished_at, detail) " +
        "VALUES (@id, @name, @status, @started_at, @finished_at, @detail) " +
        "ON CONFLICT (document_id, name) DO UPDATE SET status = excluded.status, started_at = excluded.started_at, " +
        "finished_at = excluded.finished_at, detail = excluded.detail;";

    public const string Touch = "UPDATE documents SET updated_at = @now WHERE id = @id;";

    public const string UpsertCheckpoint =
        "INSERT INTO checkpoints (document_id, stage, sha256, size_bytes, created_at, lease_token) " +
        "VALUES (@id, @stage, @sha256, @size_bytes, @now, @lease) " +
        "ON CONFLICT (document_id, stage) DO UPDATE SET sha256 = excluded.sha256, size_bytes = excluded.size_bytes, " +
        "created_at = excluded.created_at, lease_token = excluded.lease_token;";

    public const string Complete =
        "UPDATE documents SET status = @status, result_sha256 = @result_sha256, error_code = NULL, error_message = NULL, " +
        "updated_at = @now WHERE id = @id AND lease_token = @lease;";

    public const string Fail =
        "UPDATE documents SET status = @status, error_code = @code, error_message = @message, updated_at = @now " +
        "WHERE id = @id AND lease_token = @lease;";
}
