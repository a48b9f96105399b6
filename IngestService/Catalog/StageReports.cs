using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>A worker's reports of its progress through the pipeline stages, fenced by its lease.</summary>
internal sealed class StageReports(CatalogDb db, LeaseFence fence, TimeProvider time)
{
    /// <summary>Records a stage's status; start and finish times are the server's clock.</summary>
    public Task<LeaseWrite> RecordStageAsync(string id, long lease, string stage, string status, string? detail, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var check = await fence.CheckOpenAsync(connection, transaction, id, lease, $"stage report {stage}={status}", ct);
            if (!check.Passed)
            {
                return check.Outcome;
            }

            var now = CatalogTime.Now(time);
            // No row yet reads as (null, null): a stage never reported before.
            var (previous, startedAt) = await QueryFirstAsync(connection, transaction, CatalogSql.SelectStage, [("@id", id), ("@name", stage)],
                reader => ((string?)reader.GetString(0), CatalogRows.NullableString(reader, 1)), ct);

            (startedAt, var finishedAt) = status switch
            {
                StageStatus.Pending => (null, null),
                StageStatus.Running => (now, (string?)null),
                _ => (startedAt ?? now, now),
            };

            await ExecuteAsync(connection, transaction, CatalogSql.UpsertStage,
            [
                ("@id", id),
                ("@name", stage),
                ("@status", status),
                ("@started_at", startedAt),
                ("@finished_at", finishedAt),
                ("@detail", detail),
            ], ct);

            await TouchAsync(connection, transaction, id, now, ct);
            await Events.ProgressEventWriter.ForStageAsync(connection, transaction, id, now, stage, previous, status, detail, ct);
            return LeaseWrite.Done;
        }, cancellationToken);
}
