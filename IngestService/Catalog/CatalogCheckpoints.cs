using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>
/// The catalog's side of checkpoints: which stage outputs exist, with the checksum and lease they were written with.
/// The files themselves are renamed into place or into quarantine by the caller, under the catalog's write lock, so
/// the file and its row always change together.
/// </summary>
internal sealed class CatalogCheckpoints(CatalogDb db, LeaseFence fence, TimeProvider time)
{
    public Task<CheckpointRecord?> FindCheckpointAsync(string id, string stage, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) => FindAsync(connection, null, id, stage, ct), cancellationToken);

    /// <summary>
    /// Commits a checkpoint: under the write lock, checks the lease, runs <paramref name="publish"/> (the rename of the
    /// flushed temp file over the checkpoint) and records its checksum. A stale lease publishes nothing.
    /// </summary>
    public Task<LeaseWrite> CommitCheckpointAsync(
        string id, long lease, string stage, int schemaVersion, string sha256, long sizeBytes, Action publish, CancellationToken cancellationToken,
        string? optionsFingerprint = null) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await fence.CheckOpenAsync(connection, transaction, id, lease, $"checkpoint {stage}", ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            publish();
            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, CatalogSql.UpsertCheckpoint,
            [
                ("@id", id),
                ("@stage", stage),
                ("@sha256", sha256),
                ("@size_bytes", sizeBytes),
                ("@now", now),
                ("@lease", lease),
                ("@schema", schemaVersion),
                ("@options_fingerprint", optionsFingerprint),
            ], ct);

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
            if (await FindAsync(connection, transaction, id, stage, ct) is not { } current || !string.Equals(current.Sha256, sha256, StringComparison.Ordinal))
            {
                return false;
            }

            move();
            await ExecuteAsync(connection, transaction, CatalogSql.DeleteCheckpoint, [("@id", id), ("@stage", stage)], ct);
            await InsertEventAsync(connection, transaction, id, CatalogTime.Now(time), DocumentEventKinds.CheckpointQuarantined, stage, null, null, reason, ct);
            return true;
        }, cancellationToken, repeatable: false);

    /// <summary>
    /// The stages with a checkpoint made under the document's options (<paramref name="options"/>), in pipeline order (a
    /// claim and a retry tell where processing resumes). A checkpoint of other options is not listed, so it is never
    /// resumed from: its stage runs again and overwrites it (Req FMT-4).
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckpointedStagesAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string id, DocumentOptions options, CancellationToken ct)
    {
        var fingerprint = options.Fingerprint();
        var checkpointed = (await QueryAsync(connection, transaction, CatalogSql.SelectCheckpointStages, [("@id", id)],
                reader => (Stage: reader.GetString(0), Made: new CheckpointRecord("", 0, 0, default, 0, CatalogRows.NullableString(reader, 1))), ct))
            .Where(c => c.Made.MadeUnder(fingerprint)).Select(c => c.Stage).ToList();
        return PipelineStageNames.All.Where(checkpointed.Contains).Concat(checkpointed.Except(PipelineStageNames.All)).ToList();
    }

    private static Task<CheckpointRecord?> FindAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, string stage, CancellationToken ct) =>
        QueryFirstAsync(connection, transaction, CatalogSql.SelectCheckpoint, [("@id", id), ("@stage", stage)], CatalogRows.Checkpoint, ct);
}
