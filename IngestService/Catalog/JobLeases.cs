using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// A worker's hold on a document: the claim that hands out a new lease token, the heartbeat that renews it, and the
/// release after a transient failure. Each re-reads the document inside its BEGIN IMMEDIATE transaction, so a claim
/// and a write for the same document never interleave, even across processes.
/// </summary>
internal sealed class JobLeases(CatalogDb db, LeaseFence fence, TimeProvider time)
{
    /// <summary>
    /// A new lease for a worker: the token is incremented and the document moves to processing. A document that is
    /// not queued or processing (terminal, or still awaiting its malware scan) is returned as it is, untouched. With
    /// <paramref name="leaseSeconds"/> &gt; 0 the lease expires unless renewed, and a live lease of another worker
    /// refuses the claim (nothing changes). Null when the document does not exist.
    /// </summary>
    public Task<ClaimResult?> ClaimAsync(string id, string workerId, int leaseSeconds, CancellationToken cancellationToken) =>
        db.WriteAsync<ClaimResult?>(async (connection, transaction, ct) =>
        {
            var document = await CatalogRows.FindDocumentAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return null;
            }

            var checkpointed = await CatalogCheckpoints.CheckpointedStagesAsync(connection, transaction, id, document.DocumentOptions, ct);
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

            await ScalarAsync(connection, transaction, CatalogSql.Claim,
            [
                ("@owner", workerId),
                ("@status", DocumentStatus.Processing),
                ("@now", now),
                ("@lease_seconds", Math.Max(0, leaseSeconds)),
                ("@expires", leaseSeconds > 0 ? CatalogTime.ToText(nowTime.AddSeconds(leaseSeconds)) : null),
                ("@last_error", lastError),
                // An attempt still open was abandoned (its worker died or lost the lease): it counts until its last sign of life.
                ("@carried_ms", document.OpenAttemptMs()),
                ("@id", id),
            ], ct);

            document = (await CatalogRows.FindDocumentAsync(connection, transaction, id, ct))!;
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
            var check = await fence.CheckOpenAsync(connection, transaction, id, lease, "lease renewal", ct);
            if (!check.Passed)
            {
                return new LeaseRenewal(check.Outcome, check.Document);
            }

            var document = check.Document;
            var now = time.GetUtcNow();
            await ExecuteAsync(connection, transaction, CatalogSql.RenewLease,
            [
                ("@expires", document.LeaseSeconds > 0 ? CatalogTime.ToText(now.AddSeconds(document.LeaseSeconds)) : null),
                ("@now", CatalogTime.ToText(now)),
                ("@id", id),
            ], ct);
            return new LeaseRenewal(LeaseWrite.Done, document);
        }, cancellationToken);

    /// <summary>
    /// The current attempt failed transiently and its job waits for a retry: the document is queued again, the lease
    /// ends, the reason is kept (it becomes the dead-letter reason if the retries run out) and running stages are pending.
    /// </summary>
    public Task<LeaseWrite> ReleaseAsync(string id, long lease, string reason, DateTimeOffset? retryAt, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await fence.CheckOpenAsync(connection, transaction, id, lease, "release", ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            var nowTime = time.GetUtcNow();
            var now = CatalogTime.ToText(nowTime);
            await ExecuteAsync(connection, transaction, CatalogSql.Release,
            [
                ("@attempt_ms", check.Document.OpenAttemptMs(nowTime)),
                ("@status", DocumentStatus.Queued),
                ("@last_error", reason),
                ("@now", now),
                ("@id", id),
            ], ct);
            await ExecuteAsync(connection, transaction, CatalogSql.ResetStagesWithStatus,
            [
                ("@new_status", StageStatus.Pending),
                ("@detail", "attempt failed, will be retried: " + Clip(reason, 3000)),
                ("@id", id),
                ("@status", StageStatus.Running),
            ], ct);

            var when = retryAt is { } at ? $" (retry at {CatalogTime.ToText(at)})" : "";
            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Released, null, lease, check.Document.LeaseOwner, reason + when, ct);
            return LeaseWrite.Done;
        }, cancellationToken);

    /// <summary>Why the attempt before a new claim of a processing document ended: it said nothing, so it died.</summary>
    private static async Task<string> DescribeAbandonedAttemptAsync(SqliteConnection connection, SqliteTransaction transaction, DocumentRecord document, CancellationToken ct)
    {
        var running = await QueryAsync(connection, transaction, CatalogSql.SelectStagesWithStatus,
            [("@id", document.Id), ("@status", StageStatus.Running)], CatalogRows.FirstString, ct);

        var where = running.Count > 0
            ? "during stage " + string.Join(", ", PipelineStageNames.All.Where(running.Contains).DefaultIfEmpty(running[0]))
            : "between stages";
        return $"The previous attempt (lease {document.LeaseToken}, worker {document.LeaseOwner ?? "?"}) stopped {where} without reporting: " +
               "the worker crashed, was killed or stopped responding.";
    }
}
