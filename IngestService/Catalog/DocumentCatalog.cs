using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// Document state in the catalog. Every lease-fenced write re-reads the document inside its BEGIN IMMEDIATE
/// transaction, so a claim and a write for the same document can never interleave, even across processes.
/// </summary>
internal sealed class DocumentCatalog(CatalogDb db, TimeProvider time)
{
    /// <summary>
    /// Inserts a document (queued unless <paramref name="status"/> says otherwise: uploads start awaiting_scan) with all
    /// stages pending, its job priority, the uploading client and the current W3C trace context; returns its creation time.
    /// </summary>
    public Task<DateTimeOffset> InsertAsync(
        string id, string fileName, string sha256, long sizeBytes, string priority, CancellationToken cancellationToken, string status = DocumentStatus.Queued, string? client = null) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = Now();
            await using (var insert = Command(connection, transaction, CatalogSql.InsertDocument))
            {
                insert.Parameters.AddWithValue("@id", id);
                insert.Parameters.AddWithValue("@file_name", fileName);
                insert.Parameters.AddWithValue("@sha256", sha256);
                insert.Parameters.AddWithValue("@size_bytes", sizeBytes);
                insert.Parameters.AddWithValue("@status", status);
                insert.Parameters.AddWithValue("@now", now);
                insert.Parameters.AddWithValue("@trace_parent", (object?)Activity.Current?.Id ?? DBNull.Value);
                insert.Parameters.AddWithValue("@priority", priority);
                insert.Parameters.AddWithValue("@client", string.IsNullOrEmpty(client) ? DBNull.Value : client);
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

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Accepted, detail: $"{sizeBytes} bytes, sha256 {sha256}", ct: ct);
            return CatalogTime.Parse(now);
        }, cancellationToken);

    /// <summary>The W3C traceparent the document was uploaded under, if recorded.</summary>
    public Task<string?> TraceParentAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync(async (connection, ct) =>
        {
            await using var select = Command(connection, null, CatalogSql.SelectTraceParent);
            select.Parameters.AddWithValue("@id", id);
            return await select.ExecuteScalarAsync(ct) as string;
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

    public Task MarkEnqueuedAsync(string id, string entryId, string origin, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = Now();
            await using var update = Command(connection, transaction, CatalogSql.MarkEnqueued);
            update.Parameters.AddWithValue("@at", now);
            update.Parameters.AddWithValue("@entry", entryId);
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@status", DocumentStatus.Queued);
            var rows = await update.ExecuteNonQueryAsync(ct);
            if (rows > 0)
            {
                await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Enqueued, detail: $"stream entry {entryId} ({origin})", ct: ct);
            }

            return rows;
        }, cancellationToken);

    /// <summary>Records a job the sweeper added again because Redis no longer had one for the document.</summary>
    public Task MarkRequeuedAsync(string id, string entryId, string reason, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = Now();
            await using var update = Command(connection, transaction, CatalogSql.MarkRequeued);
            update.Parameters.AddWithValue("@at", now);
            update.Parameters.AddWithValue("@entry", entryId);
            update.Parameters.AddWithValue("@id", id);
            update.Parameters.AddWithValue("@queued", DocumentStatus.Queued);
            update.Parameters.AddWithValue("@processing", DocumentStatus.Processing);
            var rows = await update.ExecuteNonQueryAsync(ct);
            if (rows > 0)
            {
                await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Requeued, detail: $"stream entry {entryId}: {reason}", ct: ct);
            }

            return rows;
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

    /// <summary>
    /// Unfinished (queued or processing) documents, enqueued at some point, with no sign of life (claim, heartbeat,
    /// report, enqueue) since <paramref name="before"/>: the sweeper checks that Redis still holds a job for each.
    /// </summary>
    public Task<IReadOnlyList<string>> FindInactiveAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<string>>(async (connection, ct) =>
        {
            var ids = new List<string>();
            foreach (var status in new[] { DocumentStatus.Queued, DocumentStatus.Processing })
            {
                await using var select = Command(connection, null, CatalogSql.SelectInactive);
                select.Parameters.AddWithValue("@status", status);
                select.Parameters.AddWithValue("@before", CatalogTime.ToText(before));
                select.Parameters.AddWithValue("@limit", limit);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetString(0));
                }
            }

            return ids;
        }, cancellationToken);

    /// <summary>
    /// A new lease for a worker: the token is incremented and the document moves to processing. A document that is
    /// not queued or processing (terminal, or still awaiting its malware scan) is returned as it is, untouched. With <paramref name="leaseSeconds"/> &gt; 0 the lease expires unless renewed,
    /// and a live lease of another worker refuses the claim (nothing changes). Null when the document does not exist.
    /// </summary>
    public Task<ClaimResult?> ClaimAsync(string id, string workerId, int leaseSeconds, CancellationToken cancellationToken) =>
        db.WriteAsync<ClaimResult?>(async (connection, transaction, ct) =>
        {
            var document = await FindAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            var checkpointed = await CheckpointStagesAsync(connection, transaction, id, ct);
            if (!DocumentStatus.IsClaimable(document.Status))
            {
                return new ClaimResult(document, checkpointed);
            }

            var nowTime = time.GetUtcNow();
            var now = CatalogTime.ToText(nowTime);
            if (leaseSeconds > 0 && document.Status == DocumentStatus.Processing && document.LeaseOwner is { } owner
                && !string.Equals(owner, workerId, StringComparison.Ordinal) && document.LeaseExpiresAt is { } until && until > nowTime)
            {
                // Another worker is alive and renewing: this delivery is a duplicate of its job.
                await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.ClaimRefused, null, document.LeaseToken, workerId,
                    $"lease {document.LeaseToken} of {owner} is live until {CatalogTime.ToText(until)}", ct);
                return new ClaimResult(document, checkpointed, until);
            }

            var lastError = document.Status == DocumentStatus.Processing
                ? await DescribeAbandonedAttemptAsync(connection, transaction, document, ct)
                : document.LastError;

            await using (var claim = Command(connection, transaction, CatalogSql.Claim))
            {
                claim.Parameters.AddWithValue("@owner", workerId);
                claim.Parameters.AddWithValue("@status", DocumentStatus.Processing);
                claim.Parameters.AddWithValue("@now", now);
                claim.Parameters.AddWithValue("@lease_seconds", Math.Max(0, leaseSeconds));
                claim.Parameters.AddWithValue("@expires", leaseSeconds > 0 ? CatalogTime.ToText(nowTime.AddSeconds(leaseSeconds)) : DBNull.Value);
                claim.Parameters.AddWithValue("@last_error", (object?)lastError ?? DBNull.Value);
                // An attempt still open was abandoned (its worker died or lost the lease): it counts until its last sign of life.
                claim.Parameters.AddWithValue("@carried_ms", document.OpenAttemptMs());
                claim.Parameters.AddWithValue("@id", id);
                await claim.ExecuteScalarAsync(ct);
            }

            document = (await FindAsync(connection, transaction, id, ct))!;
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Claimed, null, document.LeaseToken, workerId,
                checkpointed.Count == 0 ? "no checkpoints: from the first stage" : "checkpoints: " + string.Join(", ", checkpointed), ct);
            return new ClaimResult(document, checkpointed);
        }, cancellationToken);

    /// <summary>
    /// Renews the lease (heartbeat): answers Done with the document while the lease is current, Terminal when the
    /// document ended meanwhile (e.g. cancelled), StaleLease when another claim took over.
    /// </summary>
    public Task<LeaseRenewal> RenewLeaseAsync(string id, long lease, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, "lease renewal", ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return new LeaseRenewal(check.Outcome, check.Document);
            }

            var document = check.Document!;
            if (DocumentStatus.IsTerminal(document.Status))
            {
                return new LeaseRenewal(LeaseWrite.Terminal, document);
            }

            var now = time.GetUtcNow();
            await using var renew = Command(connection, transaction, CatalogSql.RenewLease);
            renew.Parameters.AddWithValue("@expires", document.LeaseSeconds > 0 ? CatalogTime.ToText(now.AddSeconds(document.LeaseSeconds)) : DBNull.Value);
            renew.Parameters.AddWithValue("@now", CatalogTime.ToText(now));
            renew.Parameters.AddWithValue("@id", id);
            await renew.ExecuteNonQueryAsync(ct);
            return new LeaseRenewal(LeaseWrite.Done, document);
        }, cancellationToken);

    /// <summary>
    /// The current attempt failed transiently and its job waits for a retry: the document is queued again, the lease
    /// ends, the reason is kept (it becomes the dead-letter reason if the retries run out) and running stages are pending.
    /// </summary>
    public Task<LeaseWrite> ReleaseAsync(string id, long lease, string reason, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, "release", ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            if (DocumentStatus.IsTerminal(check.Document!.Status))
            {
                return LeaseWrite.Terminal;
            }

            var nowTime = time.GetUtcNow();
            var now = CatalogTime.ToText(nowTime);
            await using (var release = Command(connection, transaction, CatalogSql.Release))
            {
                release.Parameters.AddWithValue("@attempt_ms", check.Document.OpenAttemptMs(nowTime));
                release.Parameters.AddWithValue("@status", DocumentStatus.Queued);
                release.Parameters.AddWithValue("@last_error", reason);
                release.Parameters.AddWithValue("@now", now);
                release.Parameters.AddWithValue("@id", id);
                await release.ExecuteNonQueryAsync(ct);
            }

            await using (var reset = Command(connection, transaction, CatalogSql.ResetStagesWithStatus))
            {
                reset.Parameters.AddWithValue("@new_status", StageStatus.Pending);
                reset.Parameters.AddWithValue("@detail", "attempt failed, will be retried: " + Clip(reason, 3000));
                reset.Parameters.AddWithValue("@id", id);
                reset.Parameters.AddWithValue("@status", StageStatus.Running);
                await reset.ExecuteNonQueryAsync(ct);
            }

            var when = retryAt is { } at ? $" (retry at {CatalogTime.ToText(at)})" : "";
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Released, null, lease, check.Document.LeaseOwner, reason + when, ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>
    /// Cancels a document awaiting its scan, queued or processing at once: it ends cancelled, its unfinished stages skipped. The worker
    /// holding it learns it from its next renewal or write (409 document_terminal) and stops. Null when unknown.
    /// </summary>
    public Task<(LeaseWrite Outcome, DocumentRecord Document)?> CancelAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync<(LeaseWrite, DocumentRecord)?>(async (connection, transaction, ct) =>
        {
            var document = await FindAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            switch (document.Status)
            {
                case DocumentStatus.Cancelled:
                    return (LeaseWrite.AlreadyDone, document);
                case DocumentStatus.Completed or DocumentStatus.Failed or DocumentStatus.Rejected:
                    return (LeaseWrite.Terminal, document);
            }

            var now = Now();
            await using (var cancel = Command(connection, transaction, CatalogSql.Cancel))
            {
                cancel.Parameters.AddWithValue("@status", DocumentStatus.Cancelled);
                cancel.Parameters.AddWithValue("@code", "cancelled");
                cancel.Parameters.AddWithValue("@message", "The document was cancelled by a DELETE request before it finished.");
                cancel.Parameters.AddWithValue("@now", now);
                cancel.Parameters.AddWithValue("@id", id);
                await cancel.ExecuteNonQueryAsync(ct);
            }

            await using (var skip = Command(connection, transaction, CatalogSql.SkipUnfinishedStages))
            {
                skip.Parameters.AddWithValue("@skipped", StageStatus.Skipped);
                skip.Parameters.AddWithValue("@detail", "cancelled");
                skip.Parameters.AddWithValue("@now", now);
                skip.Parameters.AddWithValue("@id", id);
                skip.Parameters.AddWithValue("@pending", StageStatus.Pending);
                skip.Parameters.AddWithValue("@running", StageStatus.Running);
                await skip.ExecuteNonQueryAsync(ct);
            }

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Cancelled, null, document.LeaseToken, document.LeaseOwner,
                $"cancelled while {document.Status}", ct);
            return (LeaseWrite.Done, (await FindAsync(connection, transaction, id, ct))!);
        }, cancellationToken);

    /// <summary>
    /// Queues a failed or cancelled document again (Done); its checkpoints stay, so processing resumes from the last
    /// valid one. Conflict when it is completed or still queued/processing. Null when unknown.
    /// </summary>
    public Task<(LeaseWrite Outcome, DocumentRecord Document)?> RetryAsync(string id, CancellationToken cancellationToken) =>
        db.WriteAsync<(LeaseWrite, DocumentRecord)?>(async (connection, transaction, ct) =>
        {
            var document = await FindAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            if (document.Status is not (DocumentStatus.Failed or DocumentStatus.Cancelled))
            {
                return (LeaseWrite.Conflict, document);
            }

            var now = Now();
            await ResetForRetryAsync(connection, transaction, id, DocumentStatus.Queued, now, ct);

            var checkpointed = await CheckpointStagesAsync(connection, transaction, id, ct);
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Retried, null, null, null,
                $"was {document.Status} ({document.ErrorCode}: {Clip(document.ErrorMessage ?? "", 500)}); " +
                (checkpointed.Count == 0 ? "no checkpoints" : "resumes after " + checkpointed[^1]), ct);
            return (LeaseWrite.Done, (await FindAsync(connection, transaction, id, ct))!);
        }, cancellationToken);

    /// <summary>The document's history, oldest first; null when the document does not exist.</summary>
    public Task<IReadOnlyList<DocumentEvent>?> EventsAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<DocumentEvent>?>(async (connection, ct) =>
        {
            if (await FindAsync(connection, null, id, ct) is null)
            {
                return null;
            }

            await using var select = Command(connection, null, CatalogSql.SelectEvents);
            select.Parameters.AddWithValue("@id", id);
            var events = new List<DocumentEvent>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                events.Add(new DocumentEvent(
                    reader.GetInt64(0),
                    CatalogTime.Parse(reader.GetString(1)),
                    reader.GetString(2),
                    NullableString(reader, 3),
                    reader.IsDBNull(4) ? null : reader.GetInt64(4),
                    NullableString(reader, 5),
                    NullableString(reader, 6)));
            }

            return events;
        }, cancellationToken);

    /// <summary>A write refused before it reached the catalog (stale lease seen early): recorded in the history.</summary>
    public Task RecordStaleLeaseAsync(string id, long lease, string what, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (await FindAsync(connection, transaction, id, ct) is { } document)
            {
                await InsertEventAsync(connection, transaction, id, Now(), DocumentEventKinds.StaleLeaseRefused, null, lease, null,
                    $"{what} with lease {lease}; the current lease is {document.LeaseToken}", ct);
            }

            return 0;
        }, cancellationToken);

    /// <summary>Records a stage's status; start and finish times are the server's clock.</summary>
    public Task<LeaseWrite> RecordStageAsync(string id, long lease, string stage, string status, string? detail, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, $"stage report {stage}={status}", ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            if (DocumentStatus.IsTerminal(check.Document!.Status))
            {
                return LeaseWrite.Terminal;
            }

            var now = Now();
            string? startedAt = null, previous = null;
            await using (var select = Command(connection, transaction, CatalogSql.SelectStage))
            {
                select.Parameters.AddWithValue("@id", id);
                select.Parameters.AddWithValue("@name", stage);
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (await reader.ReadAsync(ct))
                {
                    (previous, startedAt) = (reader.GetString(0), NullableString(reader, 1));
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
            await Events.ProgressEventWriter.ForStageAsync(connection, transaction, id, now, stage, previous, status, detail, ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>
    /// Commits a checkpoint: under the write lock, checks the lease, runs <paramref name="publish"/> (the rename of the
    /// flushed temp file over the checkpoint) and records its checksum. A stale lease publishes nothing.
    /// </summary>
    public Task<LeaseWrite> CommitCheckpointAsync(
        string id, long lease, string stage, int schemaVersion, string sha256, long sizeBytes, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, $"checkpoint {stage}", ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            if (DocumentStatus.IsTerminal(check.Document!.Status))
            {
                return LeaseWrite.Terminal;
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
                upsert.Parameters.AddWithValue("@schema", schemaVersion);
                await upsert.ExecuteNonQueryAsync(ct);
            }

            await TouchAsync(connection, transaction, id, now, ct);
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Checkpoint, stage, lease, check.Document.LeaseOwner,
                $"{sizeBytes} bytes, schema {schemaVersion}, sha256 {sha256}", ct);
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>
    /// Takes a checkpoint that failed validation out of use: under the write lock, and only if the catalog still
    /// records the checksum that was checked (a newer checkpoint is left alone), runs <paramref name="move"/> (into the
    /// quarantine folder), forgets the checkpoint and records why. False when a newer checkpoint replaced it meanwhile.
    /// </summary>
    public Task<bool> QuarantineCheckpointAsync(string id, string stage, string sha256, string reason, Action move, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            await using (var select = Command(connection, transaction, CatalogSql.SelectCheckpoint))
            {
                select.Parameters.AddWithValue("@id", id);
                select.Parameters.AddWithValue("@stage", stage);
                await using var reader = await select.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct) || !string.Equals(reader.GetString(0), sha256, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            move();
            await using (var delete = Command(connection, transaction, CatalogSql.DeleteCheckpoint))
            {
                delete.Parameters.AddWithValue("@id", id);
                delete.Parameters.AddWithValue("@stage", stage);
                await delete.ExecuteNonQueryAsync(ct);
            }

            await InsertEventAsync(connection, transaction, id, Now(), DocumentEventKinds.CheckpointQuarantined, stage, null, null, reason, ct);
            return true;
        }, cancellationToken, repeatable: false);

    public Task<CheckpointRecord?> FindCheckpointAsync(string id, string stage, CancellationToken cancellationToken) =>
        db.ReadAsync<CheckpointRecord?>(async (connection, ct) =>
        {
            await using var select = Command(connection, null, CatalogSql.SelectCheckpoint);
            select.Parameters.AddWithValue("@id", id);
            select.Parameters.AddWithValue("@stage", stage);
            await using var reader = await select.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new CheckpointRecord(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), CatalogTime.Parse(reader.GetString(3)), reader.GetInt32(4))
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
            var check = await CheckLeaseAsync(connection, transaction, id, lease, "result", ct);
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
            var now = Now();
            await using (var update = Command(connection, transaction, CatalogSql.Complete))
            {
                update.Parameters.AddWithValue("@status", DocumentStatus.Completed);
                update.Parameters.AddWithValue("@result_sha256", resultSha256);
                update.Parameters.AddWithValue("@now", now);
                update.Parameters.AddWithValue("@id", id);
                update.Parameters.AddWithValue("@lease", lease);
                await update.ExecuteNonQueryAsync(ct);
            }

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Completed, null, lease, check.Document.LeaseOwner, "result sha256 " + resultSha256, ct);
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>Ends a document as failed. A completed document stays completed; failing twice keeps the first error.</summary>
    public Task<LeaseWrite> FailAsync(string id, long lease, string code, string message, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, "failure report", ct);
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

            var now = Now();
            await using (var update = Command(connection, transaction, CatalogSql.Fail))
            {
                update.Parameters.AddWithValue("@status", DocumentStatus.Failed);
                update.Parameters.AddWithValue("@code", code);
                update.Parameters.AddWithValue("@message", message);
                update.Parameters.AddWithValue("@now", now);
                update.Parameters.AddWithValue("@id", id);
                update.Parameters.AddWithValue("@lease", lease);
                await update.ExecuteNonQueryAsync(ct);
            }

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Failed, null, lease, check.Document.LeaseOwner, $"{code}: {Clip(message, 3000)}", ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>
    /// Publishes a stage artifact (page image, picture): under the write lock, checks the lease and runs
    /// <paramref name="publish"/> (the rename of the flushed temp file into place) unless the document is finished.
    /// Nothing is recorded in the catalog.
    /// </summary>
    public Task<LeaseWrite> PublishUnderLeaseAsync(string id, long lease, string what, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckLeaseAsync(connection, transaction, id, lease, what, ct);
            if (check.Outcome != LeaseWrite.Done)
            {
                return check.Outcome;
            }

            // Like checkpoints: a finished document no longer changes.
            if (DocumentStatus.IsTerminal(check.Document!.Status))
            {
                return LeaseWrite.Terminal;
            }

            publish();
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>
    /// Whether <paramref name="lease"/> is the document's current lease. Token 0 is never valid: it is the value of a
    /// document nobody has claimed yet.
    /// </summary>
    private async Task<(LeaseWrite Outcome, DocumentRecord? Document)> CheckLeaseAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, long lease, string what, CancellationToken ct)
    {
        var document = await FindAsync(connection, transaction, id, ct);
        if (document is null)
        {
            return (LeaseWrite.NotFound, null);
        }

        if (lease > 0 && document.LeaseToken == lease)
        {
            return (LeaseWrite.Done, document);
        }

        // Kept in the history: the proof that a worker that lost its lease was stopped at the door.
        await InsertEventAsync(connection, transaction, id, Now(), DocumentEventKinds.StaleLeaseRefused, null, lease, null,
            $"{what} with lease {lease}; the current lease is {document.LeaseToken}", ct);
        return (LeaseWrite.StaleLease, document);
    }

    /// <summary>Why the attempt before a new claim of a processing document ended: it said nothing, so it died.</summary>
    private static async Task<string> DescribeAbandonedAttemptAsync(SqliteConnection connection, SqliteTransaction transaction, DocumentRecord document, CancellationToken ct)
    {
        var running = new List<string>();
        await using (var select = Command(connection, transaction, CatalogSql.SelectStagesWithStatus))
        {
            select.Parameters.AddWithValue("@id", document.Id);
            select.Parameters.AddWithValue("@status", StageStatus.Running);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                running.Add(reader.GetString(0));
            }
        }

        var where = running.Count > 0
            ? "during stage " + string.Join(", ", PipelineStageNames.All.Where(running.Contains).DefaultIfEmpty(running[0]))
            : "between stages";
        return $"The previous attempt (lease {document.LeaseToken}, worker {document.LeaseOwner ?? "?"}) stopped {where} without reporting: " +
               "the worker crashed, was killed or stopped responding.";
    }

    private static async Task<IReadOnlyList<string>> CheckpointStagesAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, CancellationToken ct)
    {
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

        return PipelineStageNames.All.Where(checkpointed.Contains).Concat(checkpointed.Except(PipelineStageNames.All)).ToList();
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
        NullableString(reader, 12),
        NullableString(reader, 13),
        NullableString(reader, 14),
        NullableString(reader, 15),
        reader.GetInt32(16),
        reader.GetInt32(17),
        reader.GetInt64(18),
        NullableString(reader, 19),
        NullableString(reader, 20),
        reader.GetString(21));

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private string Now() => CatalogTime.ToText(time.GetUtcNow());
}
