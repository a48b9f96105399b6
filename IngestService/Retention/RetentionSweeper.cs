using IngestService.Catalog;
using Microsoft.Extensions.Options;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Retention;

/// <summary>
/// Removes expired documents (Req OUT-2): every <c>Retention:SweepIntervalSeconds</c>. Each pass first finishes the tombstones still 'deleting' (a crash
/// between a tombstone and the removal of its files), then deletes the documents past their expiry, oldest first, at
/// most <c>Retention:BatchSize</c> per pass (the next pass takes the rest at once).
/// </summary>
internal sealed partial class RetentionSweeper(
    CatalogDb db,
    CatalogState catalogState,
    DocumentDeletion deletion,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<RetentionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!catalogState.IsAvailable)
            {
                // Nothing is judged before the catalog is open (it may not even be migrated yet).
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                continue;
            }

            var more = false;
            try
            {
                more = await SweepOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex);
            }

            if (!more)
            {
                await Task.Delay(interval, time, stoppingToken);
            }
        }
    }

    /// <summary>One pass; true when it stopped at the batch size with more to do.</summary>
    internal async Task<bool> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var limit = options.Value.BatchSize;
        var deleting = await db.ReadAsync((connection, ct) =>
            QueryAsync(connection, null, RetentionSql.SelectDeleting, [("@limit", limit)], r => r.GetString(0), ct), cancellationToken);
        foreach (var id in deleting)
        {
            var reason = (await db.ReadAsync((connection, ct) =>
                QueryFirstAsync(connection, null, RetentionSql.SelectTombstone, [("@id", id)], Tombstone.Read, ct), cancellationToken))?.Reason ?? Tombstone.Expired;
            LogFinishing(id);
            await deletion.FinishAsync(id, reason, cancellationToken);
        }

        var expired = await db.ReadAsync((connection, ct) =>
            QueryAsync(connection, null, RetentionSql.SelectExpired, [("@now", CatalogTime.Now(time)), ("@limit", limit)], r => r.GetString(0), ct),
            cancellationToken);
        foreach (var id in expired)
        {
            await deletion.DeleteAsync(id, Tombstone.Expired, onlyIfExpired: true, cancellationToken);
        }

        return deleting.Count == limit || expired.Count == limit;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Finishing the interrupted removal of document {DocumentId}")]
    private partial void LogFinishing(string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention sweep failed; the next one retries")]
    private partial void LogSweepFailed(Exception exception);
}
