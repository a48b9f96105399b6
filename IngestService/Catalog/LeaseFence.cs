using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>What the fence found: the outcome, and the document as it is (null when it does not exist).</summary>
internal readonly record struct LeaseCheck(LeaseWrite Outcome, DocumentRecord? Document)
{
    /// <summary>The lease is current (and, for <see cref="LeaseFence.CheckOpenAsync"/>, the document unfinished): the write may go ahead.</summary>
    [MemberNotNullWhen(true, nameof(Document))]
    public bool Passed => Outcome == LeaseWrite.Done && Document is not null;
}

/// <summary>
/// The fence of every lease-held write (Req CK-4): the check runs inside the write's own BEGIN IMMEDIATE transaction,
/// so no claim can slip between the check and the write; a refused write is kept in the document's history.
/// </summary>
internal sealed class LeaseFence(CatalogDb db, TimeProvider time)
{
    /// <summary>
    /// Whether <paramref name="lease"/> is the document's current lease. Token 0 is never valid: it is the value of a
    /// document nobody has claimed yet. <paramref name="what"/> names the write in the history entry of a refusal.
    /// </summary>
    public async Task<LeaseCheck> CheckAsync(SqliteConnection connection, SqliteTransaction transaction, string id, long lease, string what, CancellationToken ct)
    {
        var document = await CatalogRows.FindDocumentAsync(connection, transaction, id, ct);
        if (document is null)
        {
            return new LeaseCheck(LeaseWrite.NotFound, null);
        }

        if (lease > 0 && document.LeaseToken == lease)
        {
            return new LeaseCheck(LeaseWrite.Done, document);
        }

        await RecordRefusalAsync(connection, transaction, id, lease, what, document, ct);
        return new LeaseCheck(LeaseWrite.StaleLease, document);
    }

    /// <summary><see cref="CheckAsync"/>, and Terminal when the document has ended meanwhile: a finished document no longer changes.</summary>
    public async Task<LeaseCheck> CheckOpenAsync(SqliteConnection connection, SqliteTransaction transaction, string id, long lease, string what, CancellationToken ct)
    {
        var check = await CheckAsync(connection, transaction, id, lease, what, ct);
        return check.Passed && DocumentStatus.IsTerminal(check.Document.Status) ? check with { Outcome = LeaseWrite.Terminal } : check;
    }

    /// <summary>A write refused before it reached the catalog (stale lease seen early): recorded in the history.</summary>
    public Task RecordStaleLeaseAsync(string id, long lease, string what, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (await CatalogRows.FindDocumentAsync(connection, transaction, id, ct) is { } document)
            {
                await RecordRefusalAsync(connection, transaction, id, lease, what, document, ct);
            }

            return 0;
        }, cancellationToken);

    /// <summary>
    /// Publishes a stage artifact (page image, picture): under the write lock, checks the lease and runs
    /// <paramref name="publish"/> (the rename of the flushed temp file into place) unless the document is finished.
    /// Nothing is recorded in the catalog.
    /// </summary>
    public Task<LeaseWrite> PublishUnderLeaseAsync(string id, long lease, string what, Action publish, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await CheckOpenAsync(connection, transaction, id, lease, what, ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            publish();
            return LeaseWrite.Done;
        }, cancellationToken, repeatable: false);

    /// <summary>Kept in the history: the proof that a worker that lost its lease was stopped at the door.</summary>
    private Task RecordRefusalAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, long lease, string what, DocumentRecord document, CancellationToken ct) =>
        InsertEventAsync(connection, transaction, id, CatalogTime.Now(time), DocumentEventKinds.StaleLeaseRefused, null, lease, null,
            $"{what} with lease {lease}; the current lease is {document.LeaseToken}", ct);
}
