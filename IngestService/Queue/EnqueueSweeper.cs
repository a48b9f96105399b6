using IngestService.Catalog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IngestService.Queue;

/// <summary>
/// Keeps the catalog and the jobs stream from diverging (Req JOB-7): every sweep enqueues queued documents whose
/// enqueue failed, and now and then checks that long-queued documents still have their stream entry (Redis may
/// have restarted without persistence) and enqueues them again if not.
/// </summary>
internal sealed partial class EnqueueSweeper(
    DocumentCatalog catalog,
    CatalogState catalogState,
    JobQueue queue,
    IOptions<QueueOptions> options,
    TimeProvider time,
    ILogger<EnqueueSweeper> logger) : BackgroundService
{
    private readonly QueueOptions _options = options.Value;
    private DateTimeOffset _lastVerify = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (queue.IsConnected)
        {
            await queue.EnsureGroupAsync(stoppingToken);
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.SweepIntervalSeconds), time);
        do
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One sweep; returns how many jobs it added.</summary>
    internal async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        if (!catalogState.IsAvailable || !queue.IsConnected)
        {
            return 0;
        }

        var added = 0;
        // Leave documents alone whose upload may still be waiting for its own XADD, so they are not added twice.
        var createdBefore = time.GetUtcNow() - TimeSpan.FromMilliseconds(_options.EnqueueTimeoutMs) - TimeSpan.FromSeconds(1);
        foreach (var id in await catalog.FindNeverEnqueuedAsync(createdBefore, _options.SweepBatchSize, cancellationToken))
        {
            if (!await EnqueueAsync(id, cancellationToken))
            {
                return added;
            }

            added++;
        }

        var now = time.GetUtcNow();
        var verifyAfter = TimeSpan.FromSeconds(_options.VerifyAfterSeconds);
        if (now - _lastVerify >= verifyAfter)
        {
            _lastVerify = now;
            foreach (var (id, entryId) in await catalog.FindQueuedSinceAsync(now - verifyAfter, _options.SweepBatchSize, cancellationToken))
            {
                var exists = entryId is null ? false : await queue.EntryExistsAsync(entryId, cancellationToken);
                if (exists is false)
                {
                    LogEntryLost(id, entryId ?? "(none)");
                    if (!await EnqueueAsync(id, cancellationToken))
                    {
                        return added;
                    }

                    added++;
                }
            }
        }

        return added;
    }

    private async Task<bool> EnqueueAsync(string id, CancellationToken cancellationToken)
    {
        var entryId = await queue.TryEnqueueAsync(id, "sweeper", cancellationToken);
        if (entryId is null)
        {
            return false;
        }

        await catalog.MarkEnqueuedAsync(id, entryId, cancellationToken);
        LogRequeued(id, entryId);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweeper enqueued document {DocumentId} as stream entry {EntryId}")]
    private partial void LogRequeued(string documentId, string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job of queued document {DocumentId} (entry {EntryId}) is no longer in the stream; adding it again")]
    private partial void LogEntryLost(string documentId, string entryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Enqueue sweep failed; the next one retries")]
    private partial void LogSweepFailed(Exception exception);
}
