using Microsoft.Data.Sqlite;
using Suite.Contracts;

namespace IngestService.Catalog;

/// <summary>
/// Document state in the catalog. Every lease-fenced write re-reads the document inside its BEGIN IMMEDIATE
/// transaction, so a claim and a write for the same document can never interleave, even across processes.
/// </summary>
internal sealed class DocumentCatalog(CatalogDb db, TimeProvider time)
{
    /// <summary>Inserts a queued document with all stages pending; returns its creation time.</summary>
    public Task<DateTimeOffset> InsertAsync(string id, string fileName, string sha256, long sizeBytes, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = Now();
            await using (var insert = Command(connection, transaction, CatalogSql.InsertDocument))
            {
                insert.Parameters.AddWithValue("@id", id);
                insert.Parameters.AddWithValue("@file_name", fileName);
                insert.Parameters.AddWithValue("@sha256", sha256);
                insert.Parameters.AddWithValue("@size_bytes", sizeBytes);
                insert.Parameters.AddWithValue("@status", DocumentStatus.Queued);
                insert.Parameters.AddWithValue("@now", now);
                await insert.ExecuteNonQueryAsync(ct);
            }

            foreach (var stage in PipelineStageNames.All)
            {
                await using var insertStage = Command(connection, transaction, CatalogSql.InsertStage);
                insertStage.Parameters.AddWithValue("@id", id);
                insertStage.Parameters.AddWithValue("@name", stage);
                insertStage.Parameters.AddWithValue("@status", StageStatus.Pending);
                await insertStage.ExecuteNonQueryAsync(ct);
            }

            return CatalogTime.Parse(now);
        }, cancellationToken);

    public Task<DocumentRecord?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => FindAsync(connection, null, id, ct), cancellationToken);

    /// <summary>The document and its stages, in pipeline order (stages with no row yet are pending).</summary>
    public Task<(DocumentRecord Document, IReadOnlyList<StageRecord> Stages)?> FindWithStagesAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<(DocumentRecord, IReadOnlyList<StageRecord>)?>(async (connection, ct) =>
        {
            var document = await FindAsync(connection, null, id, ct);
            if (document is null)
            {
                return null;
            }

            var rows = new Dictionary<string, StageRecord>(StringComparer.Ordinal);
            await using (var select = Command(connection, null, CatalogSql.SelectStages))
            {
                select.Parameters.AddWithValue("@id", id);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var stage = new StageRecord(
                        reader.GetString(0),
                        reader.GetString(1),
                        CatalogTime.ParseNullable(NullableString(reader, 2)),
                        CatalogTime.ParseNullable(NullableString(reader, 3)),
                        NullableString(reader, 4));
                    rows[stage.Name] = stage;
                }
            }

            var ordered = PipelineStageNames.All
                .Select(name => rows.GetValueOrDefault(name) ?? new StageRecord(name, StageStatus.Pending, null, null, null))
                .ToList();
            return (document, ordered);
        }, cancellationToken);

    /// <summary>Newest first; <paramref name="after"/> is the (created_at, id) of the last item of the previous page.</summary>
    public Task<IReadOnlyList<DocumentRecord>> ListAsync(int limit, (string CreatedAt, string Id)? after, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<DocumentRecord>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, after is null ? CatalogSql.ListFirstPage : CatalogSql.ListAfterCursor);
            select.Parameters.AddWithValue("@limit", limit);
            if (after is { } cursor)
            {
                select.Parameters.AddWithValue("@created_at", cursor.CreatedAt);
                select.Parameters.AddWithValue("@id", cursor.Id);
            }

            var items = new List<DocumentRecord>(limit);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                items.Add(ReadDocument(reader));
            }

            return items;
        }, cancellationToken);

    public Task MarkEnqueuedAsync(string id, string entryId, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using var update = Command(connection, transaction, CatalogSql.MarkEnqueued);
            update.Parameters.AddWithValue("@at", Now());
            update.Parameters.AddWithValue("@entry", entryId);
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@status", DocumentStatus.Queued);
            return await update.ExecuteNonQueryAsync(ct);
        }, cancellationToken);

    /// <summary>
    /// Queued documents created before <paramref name="createdBefore"/> whose enqueue never succeeded, oldest first.
    /// (Newer ones may still have their upload's XADD in flight.)
    /// </summary>
    public Task<IReadOnlyList<string>> FindNeverEnqueuedAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, CatalogSql.SelectNeverEnqueued);
            select.Parameters.AddWithValue("@status", DocumentStatus.Queued);
            select.Parameters.AddWithValue("@before", CatalogTime.ToText(createdBefore));
            select.Parameters.AddWithValue("@limit", limit);
            var ids = new List<string>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        }, cancellationToken);

    /// <summary>Documents still queued although their job was added before <paramref name="before"/>, with the job's stream entry id.</summary>
    public Task<IReadOnlyList<(string Id, string? EntryId)>> FindQueuedSinceAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<(string, string?)>>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, CatalogSql.SelectEnqueuedBefore);
            select.Parameters.AddWithValue("@status", DocumentStatus.Queued);
            select.Parameters.AddWithValue("@before", CatalogTime.ToText(before));
            select.Parameters.AddWithValue("@limit", limit);
            var rows = new List<(string, string?)>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetString(0), NullableString(reader, 1)));
            }

            return rows;
        }, cancellationToken);

    /// <summary>
    /// A new lease for a worker: the token is incremented and the document moves to processing. A terminal document
    /// is returned as it is, untouched. Null when the document does not exist.
    /// </summary>
    public Task<ClaimResult?> ClaimAsync(string id, string workerId, CancellationToken cancellationToken) =>
        db.WriteAsync<ClaimResult?>(async (connection, transaction, ct) =>
        {
            var document = await FindAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            if (!DocumentStatus.IsTerminal(document.Status))
            {
                await using var claim = Command(connection, transaction, CatalogSql.Claim);
                claim.Parameters.AddWithValue("@owner", workerId);
                claim.Parameters.AddWithValue("@status", DocumentStatus.Processing);
                claim.Parameters.AddWithValue("@now", Now());
                claim.Parameters.AddWithValue("@id", id);
                await claim.ExecuteScalarAsync(ct);
                document = (await FindAsync(connection, transaction, id, ct))!;
            }

            var checkpointed = new List<string>();
            await using (var select = Command(connection, transaction, CatalogSql.SelectCheckpointStages))
            {
                select.Parameters.AddWithValue("@id", id);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    checkpointed.Add(reader.GetString(0));
                }
            }

            var inOrder = PipelineStageNames.All.Where(checkpointed.Contains).Concat(checkpointed.Except(PipelineStageNames.All)).ToList();
            return new ClaimResult(document, inOrder);
        }, cancellationToken);

    /// <summary>Records a stage's status; start and finish times are the server's clock.</summary>
    public Task<LeaseWrite> RecordStageAsync(string id, long lease, string stage, string status, string? detail, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            var now = Now();
            string? startedAt = null;
            await using (var select = Command(connection, transaction, CatalogSql.SelectStage))
            {
                select.Parameters.AddWithValue("@id", id);
                select.Parameters.AddWithValue("@name", stage);
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (await reader.ReadAsync(ct))
                {
                    startedAt = NullableString(reader, 1);
                }
            }

            (startedAt, var finishedAt) = status switch
            {
                StageStatus.Pending => (null, null),
                StageStatus.Running => (now, (string?)null),
                _ => (startedAt ?? now, now),
            };

            await using (var upsert = Command(connection, transaction, CatalogSql.UpsertStage))
            {
                upsert.Parameters.AddWithValue("@id", id);
                upsert.Parameters.AddWithValue("@name", stage);
                upsert.Parameters.AddWithValue("@status", status);
                upsert.Parameters.AddWithValue("@started_at", (object?)startedAt ?? DBNull.Value);
                upsert.Parameters.AddWithValue("@finished_at", (object?)finishedAt ?? DBNull.Value);
                upsert.Parameters.AddWithValue("@detail", (object?)detail ?? DBNull.Value);
                await upsert.ExecuteNonQueryAsync(ct);
            }

            await TouchAsync(connection, transaction, id, now, ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>
    /// Commits a checkpoint: under the write lock, checks the lease, runs <paramref name="publish"/> (the rename of the
    /// flushed temp file over the checkpoint) and records its checksum. A stale lease publishes nothing.
    /// </summary>
    public Task<LeaseWrite> CommitCheckpointAsync(string id, long lease, string stage, string sha256, long sizeBytes, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            publish();
            var now = Now();
            await using (var upsert = Command(connection, transaction, CatalogSql.UpsertCheckpoint))
            {
                upsert.Parameters.AddWithValue("@id", id);
                upsert.Parameters.AddWithValue("@stage", stage);
                upsert.Parameters.AddWithValue("@sha256", sha256);
                upsert.Parameters.AddWithValue("@size_bytes", sizeBytes);
                upsert.Parameters.AddWithValue("@now", now);
                upsert.Parameters.AddWithValue("@lease", lease);
                await upsert.ExecuteNonQueryAsync(ct);
            }

            await TouchAsync(connection, transaction, id, now, ct);
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    public Task<CheckpointRecord?> FindCheckpointAsync(string id, string stage, CancellationToken cancellationToken) =>
        db.ReadAsync<CheckpointRecord?>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, CatalogSql.SelectCheckpoint);
            select.Parameters.AddWithValue("@id", id);
            select.Parameters.AddWithValue("@stage", stage);
            await using var reader = await select.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new CheckpointRecord(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), CatalogTime.Parse(reader.GetString(3)))
                : null;
        }, cancellationToken);

    /// <summary>
    /// Completes a document: under the write lock, checks the lease and state, runs <paramref name="publish"/> (renaming
    /// the result files into place) and marks it completed. Completing again with the same result is a no-op;
    /// a different result for a completed document is refused, so there are never two results.
    /// </summary>
    public Task<LeaseWrite> CompleteAsync(string id, long lease, string resultSha256, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            switch (check.Document!.Status)
            {
                case DocumentStatus.Completed:
                    return string.Equals(check.Document.ResultSha256, resultSha256, StringComparison.Ordinal) ? LeaseWrite.AlreadyDone : LeaseWrite.Conflict;
                case DocumentStatus.Failed or DocumentStatus.Cancelled:
                    return LeaseWrite.Terminal;
            }

            publish();
            await using var update = Command(connection, transaction, CatalogSql.Complete);
            update.Parameters.AddWithValue("@status", DocumentStatus.Completed);
            update.Parameters.AddWithValue("@result_sha256", resultSha256);
            update.Parameters.AddWithValue("@now", Now());
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@lease", lease);
            await update.ExecuteNonQueryAsync(ct);
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>Ends a document as failed. A completed document stays completed; failing twice keeps the first error.</summary>
    public Task<LeaseWrite> FailAsync(string id, long lease, string code, string message, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            switch (check.Document!.Status)
            {
                case DocumentStatus.Failed:
                    return LeaseWrite.AlreadyDone;
                case DocumentStatus.Completed or DocumentStatus.Cancelled:
                    return LeaseWrite.Terminal;
            }

            await using var update = Command(connection, transaction, CatalogSql.Fail);
            update.Parameters.AddWithValue("@status", DocumentStatus.Failed);
            update.Parameters.AddWithValue("@code", code);
            update.Parameters.AddWithValue("@message", message);
            update.Parameters.AddWithValue("@now", Now());
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@lease", lease);
            await update.ExecuteNonQueryAsync(ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>
    /// Whether <paramref name="lease"/> is the document's current lease. Token 0 is never valid: it is the value of a
    /// document nobody has claimed yet.
    /// </summary>
    private static async Task<(LeaseWrite Outcome, DocumentRecord? Document)> CheckLeaseAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, long lease, CancellationToken ct)
    {
        var document = await FindAsync(connection, transaction, id, ct);
        if (document is null)
        {
            return (LeaseWrite.NotFound, null);
        }

        return lease > 0 && document.LeaseToken == lease ? (LeaseWrite.Done, document) : (LeaseWrite.StaleLease, document);
    }

    private static async Task TouchAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string now, CancellationToken ct)
    {
        await using var touch = Command(connection, transaction, CatalogSql.Touch);
        touch.Parameters.AddWithValue("@now", now);
        touch.Parameters.AddWithValue("@id", id);
        await touch.ExecuteNonQueryAsync(ct);
    }

    private static async Task<DocumentRecord?> FindAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, CancellationToken ct)
    {
        await using var select = Command(connection, transaction, CatalogSql.SelectDocument);
        select.Parameters.AddWithValue("@id", id);
        await using var reader = await select.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadDocument(reader) : null;
    }

    private static DocumentRecord ReadDocument(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3),
        reader.GetString(4),
        reader.GetString(5),
        reader.GetString(6),
        NullableString(reader, 7),
        NullableString(reader, 8),
        reader.GetInt64(9),
        NullableString(reader, 10),
        NullableString(reader, 11),
        NullableString(reader, 12));

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private string Now() => CatalogTime.ToText(time.GetUtcNow());
}
