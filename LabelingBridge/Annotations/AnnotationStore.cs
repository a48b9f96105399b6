using LabelingBridge.Outbox;
using Microsoft.Data.Sqlite;

namespace LabelingBridge.Annotations;

public static class AnnotationSources
{
    public const string Webhook = "webhook";
    public const string Reconciliation = "reconciliation";
}

/// <summary>An annotation pulled back from Label Studio, keyed by Label Studio's annotation id.</summary>
public sealed record StoredAnnotation(
    long AnnotationId,
    long TaskId,
    int? ProjectId,
    string DocumentId,
    int PageNo,
    string ResultJson,
    string? CompletedBy,
    bool WasCancelled,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    string Source,
    DateTimeOffset ReceivedAt);

public enum UpsertOutcome
{
    Stored,
    Updated,
    Unchanged,
}

/// <summary>
/// Annotations in the outbox database. Upserts are idempotent by annotation id: a replayed webhook or a
/// reconciliation pass that sees the same annotation changes nothing; a newer version replaces an older one.
/// </summary>
public sealed class AnnotationStore(OutboxDb db)
{
    private const string Columns = "annotation_id, task_id, project_id, document_id, page_no, result_json, completed_by, was_cancelled, ls_created_at, ls_updated_at, source, received_at";

    public Task<UpsertOutcome> UpsertAsync(StoredAnnotation annotation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        return db.WriteAsync(async (connection, transaction, ct) =>
        {
            string? storedUpdatedAt = null;
            string? storedResult = null;
            var exists = false;
            await using (var find = ExportOutbox.Command(connection, transaction, "SELECT ls_updated_at, result_json FROM annotations WHERE annotation_id = @id"))
            {
                find.Parameters.AddWithValue("@id", annotation.AnnotationId);
                await using var reader = await find.ExecuteReaderAsync(ct);
                if (await reader.ReadAsync(ct))
                {
                    exists = true;
                    storedUpdatedAt = reader.IsDBNull(0) ? null : reader.GetString(0);
                    storedResult = reader.GetString(1);
                }
            }

            var incomingUpdatedAt = annotation.UpdatedAt is { } u ? OutboxTime.ToText(u) : null;
            if (exists && (string.CompareOrdinal(incomingUpdatedAt, storedUpdatedAt) < 0 ||
                           (incomingUpdatedAt == storedUpdatedAt && storedResult == annotation.ResultJson)))
            {
                return UpsertOutcome.Unchanged;
            }

            await using var upsert = ExportOutbox.Command(connection, transaction,
                $"INSERT INTO annotations ({Columns}) VALUES (@id, @task, @project, @doc, @page, @result, @by, @cancelled, @created, @updated, @source, @received) " +
                "ON CONFLICT (annotation_id) DO UPDATE SET task_id = excluded.task_id, project_id = excluded.project_id, document_id = excluded.document_id, " +
                "page_no = excluded.page_no, result_json = excluded.result_json, completed_by = excluded.completed_by, was_cancelled = excluded.was_cancelled, " +
                "ls_created_at = excluded.ls_created_at, ls_updated_at = excluded.ls_updated_at, source = excluded.source, received_at = excluded.received_at");
            upsert.Parameters.AddWithValue("@id", annotation.AnnotationId);
            upsert.Parameters.AddWithValue("@task", annotation.TaskId);
            upsert.Parameters.AddWithValue("@project", (object?)annotation.ProjectId ?? DBNull.Value);
            upsert.Parameters.AddWithValue("@doc", annotation.DocumentId);
            upsert.Parameters.AddWithValue("@page", annotation.PageNo);
            upsert.Parameters.AddWithValue("@result", annotation.ResultJson);
            upsert.Parameters.AddWithValue("@by", (object?)annotation.CompletedBy ?? DBNull.Value);
            upsert.Parameters.AddWithValue("@cancelled", annotation.WasCancelled ? 1 : 0);
            upsert.Parameters.AddWithValue("@created", annotation.CreatedAt is { } c ? OutboxTime.ToText(c) : DBNull.Value);
            upsert.Parameters.AddWithValue("@updated", (object?)incomingUpdatedAt ?? DBNull.Value);
            upsert.Parameters.AddWithValue("@source", annotation.Source);
            upsert.Parameters.AddWithValue("@received", OutboxTime.ToText(annotation.ReceivedAt));
            await upsert.ExecuteNonQueryAsync(ct);
            return exists ? UpsertOutcome.Updated : UpsertOutcome.Stored;
        }, cancellationToken);
    }

    public Task<int> DeleteAsync(IReadOnlyCollection<long> annotationIds, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var deleted = 0;
            foreach (var id in annotationIds)
            {
                await using var delete = ExportOutbox.Command(connection, transaction, "DELETE FROM annotations WHERE annotation_id = @id");
                delete.Parameters.AddWithValue("@id", id);
                deleted += await delete.ExecuteNonQueryAsync(ct);
            }

            return deleted;
        }, cancellationToken);

    /// <summary>Removes the task's annotations that Label Studio no longer has (deleted while a webhook was lost).</summary>
    public Task<int> DeleteMissingAsync(long taskId, IReadOnlyCollection<long> keep, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var stale = new List<long>();
            await using (var select = ExportOutbox.Command(connection, transaction, "SELECT annotation_id FROM annotations WHERE task_id = @task"))
            {
                select.Parameters.AddWithValue("@task", taskId);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    if (!keep.Contains(reader.GetInt64(0)))
                    {
                        stale.Add(reader.GetInt64(0));
                    }
                }
            }

            foreach (var id in stale)
            {
                await using var delete = ExportOutbox.Command(connection, transaction, "DELETE FROM annotations WHERE annotation_id = @id");
                delete.Parameters.AddWithValue("@id", id);
                await delete.ExecuteNonQueryAsync(ct);
            }

            return stale.Count;
        }, cancellationToken);

    public Task<IReadOnlyList<StoredAnnotation>> ListForDocumentAsync(string documentId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<StoredAnnotation>>(async (connection, ct) =>
        {
            await using var select = ExportOutbox.Command(connection, null, $"SELECT {Columns} FROM annotations WHERE document_id = @doc ORDER BY page_no, annotation_id LIMIT 10000");
            select.Parameters.AddWithValue("@doc", documentId);
            var rows = new List<StoredAnnotation>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(Read(reader));
            }

            return rows;
        }, cancellationToken);

    private static StoredAnnotation Read(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetInt64(1),
        r.IsDBNull(2) ? null : r.GetInt32(2),
        r.GetString(3),
        r.GetInt32(4),
        r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.GetInt32(7) != 0,
        r.IsDBNull(8) ? null : OutboxTime.Parse(r.GetString(8)),
        r.IsDBNull(9) ? null : OutboxTime.Parse(r.GetString(9)),
        r.GetString(10),
        OutboxTime.Parse(r.GetString(11)));
}
