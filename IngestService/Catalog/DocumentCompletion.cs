using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// How a worker ends a document, under its lease: completed with exactly one result, or failed. Both are idempotent
/// (the same ending again changes nothing), and neither overrides a different ending.
/// </summary>
internal sealed class DocumentCompletion(CatalogDb db, LeaseFence fence, TimeProvider time)
{
    /// <summary>
    /// Completes a document: under the write lock, checks the lease and state, runs <paramref name="publish"/> (renaming
    /// the result files into place) and marks it completed. Completing again with the same result is a no-op;
    /// a different result for a completed document is refused, so there are never two results.
    /// </summary>
    public Task<LeaseWrite> CompleteAsync(string id, long lease, string resultSha256, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await fence.CheckAsync(connection, transaction, id, lease, "result", ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            switch (check.Document.Status)
            {
                case DocumentStatus.Completed:
                    return string.Equals(check.Document.ResultSha256, resultSha256, StringComparison.Ordinal) ? LeaseWrite.AlreadyDone : LeaseWrite.Conflict;
                case DocumentStatus.Failed or DocumentStatus.Cancelled:
                    return LeaseWrite.Terminal;
            }

            publish();
            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, CatalogSql.Complete,
            [
                ("@status", DocumentStatus.Completed),
                ("@result_sha256", resultSha256),
                ("@now", now),
                ("@id", id),
                ("@lease", lease),
            ], ct);

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Completed, null, lease, check.Document.LeaseOwner, "result sha256 " + resultSha256, ct);
            await Webhooks.WebhookOutbox.EnqueueAsync(connection, transaction, id, now, ct);
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>Ends a document as failed. A completed document stays completed; failing twice keeps the first error.</summary>
    public Task<LeaseWrite> FailAsync(string id, long lease, string code, string message, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await fence.CheckAsync(connection, transaction, id, lease, "failure report", ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            switch (check.Document.Status)
            {
                case DocumentStatus.Failed:
                    return LeaseWrite.AlreadyDone;
                case DocumentStatus.Completed or DocumentStatus.Cancelled:
                    return LeaseWrite.Terminal;
            }

            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, CatalogSql.Fail,
            [
                ("@status", DocumentStatus.Failed),
                ("@code", code),
                ("@message", message),
                ("@now", now),
                ("@id", id),
                ("@lease", lease),
            ], ct);

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Failed, null, lease, check.Document.LeaseOwner, $"{code}: {Clip(message, 3000)}", ct);
            await Webhooks.WebhookOutbox.EnqueueAsync(connection, transaction, id, now, ct);
            return LeaseWrite.Done;
        }, cancellationToken);
}
