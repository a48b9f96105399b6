using IngestService.Api;
using IngestService.Catalog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IngestService.Queue;

/// <summary>
/// Keeps the catalog and Redis from diverging; the catalog is the source of truth (Req JOB-4, JOB-7). Every sweep
/// enqueues queued documents whose enqueue failed. Every half <c>VerifyAfterSeconds</c> it takes the unfinished
/// documents without a sign of life for <c>VerifyAfterSeconds</c> (no claim, heartbeat or report) and asks Redis
/// whether it still holds a job for each (stream or retry set); a document with none (Redis restarted without its
/// data, the last second of AOF lost, a worker gone after its job was dropped as a duplicate) is queued again.
/// </summary>
internal sealed partial class EnqueueSweeper(
    QueueBookkeeping bookkeeping,
    DocumentReads reads,
    CatalogState catalogState,
    JobQueue queue,
    JobEnqueuer enqueuer,
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

        // The group is created at start-up only if Redis was already connected then, and lost with a Redis that
        // restarted without its data: every pass makes sure of it, so it exists before any worker or upload needs it.
        if (!queue.GroupEnsured && !await queue.EnsureGroupAsync(cancellationToken))
        {
            return 0;
        }

        var added = 0;
        // Leave documents alone whose upload may still be waiting for its own XADD, so they are not added twice.
        var createdBefore = time.GetUtcNow() - TimeSpan.FromMilliseconds(_options.EnqueueTimeoutMs) - TimeSpan.FromSeconds(1);
        foreach (var id in await bookkeeping.FindNeverEnqueuedAsync(createdBefore, _options.SweepBatchSize, cancellationToken))
        {
            if (await PriorityOfAsync(id, cancellationToken) is not { } priority
                || await enqueuer.EnqueueAsync(id, priority, "sweeper", await TraceParentOfAsync(id, cancellationToken)) is not { } entryId)
            {
                return added;
            }

            LogEnqueued(id, entryId);
            added++;
        }

        var now = time.GetUtcNow();
        var verifyAfter = TimeSpan.FromSeconds(_options.VerifyAfterSeconds);
        if (now - _lastVerify >= verifyAfter / 2)
        {
            _lastVerify = now;
            added += await RequeueLostAsync(now - verifyAfter, cancellationToken);
        }

        return added;
    }

    /// <summary>Queues again every unfinished document inactive since <paramref name="before"/> for which Redis has no job.</summary>
    private async Task<int> RequeueLostAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var inactive = await bookkeeping.FindInactiveAsync(before, _options.SweepBatchSize, cancellationToken);
        if (await queue.FindMissingAsync(inactive, cancellationToken) is not { } missing)
        {
            return 0;
        }

        var added = 0;
        foreach (var id in missing)
        {
            if (await PriorityOfAsync(id, cancellationToken) is not { } priority
                || await queue.TryEnqueueAsync(id, priority, "sweeper", cancellationToken, await TraceParentOfAsync(id, cancellationToken)) is not { } entryId)
            {
                break;
            }

            var reason = $"Redis held no job for the document (stream or retry set) and it showed no sign of life for {_options.VerifyAfterSeconds} s";
            await bookkeeping.MarkRequeuedAsync(id, entryId, reason, cancellationToken);
            IngestTelemetry.RequeuedJobs.Add(1);
            LogJobLost(id, entryId);
            added++;
        }

        return added;
    }

    /// <summary>
    /// The document's job priority, so the job goes back to the stream its upload chose (Req LS-2); null when the
    /// catalog cannot say (the sweep stops and the next one tries again) or the document is gone.
    /// </summary>
    private async Task<string?> PriorityOfAsync(string documentId, CancellationToken cancellationToken)
    {
        try
        {
            return (await reads.FindAsync(documentId, cancellationToken))?.Priority;
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or CatalogUnavailableException)
        {
            LogSweepFailed(ex);
            return null;
        }
    }

    /// <summary>The upload's trace context, so the job the sweeper adds continues the upload's trace (else a new one starts).</summary>
    private async Task<string?> TraceParentOfAsync(string documentId, CancellationToken cancellationToken)
    {
        try
        {
            return await reads.TraceParentAsync(documentId, cancellationToken);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or CatalogUnavailableException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweeper enqueued document {DocumentId} as stream entry {EntryId}")]
    private partial void LogEnqueued(string documentId, string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis had no job for unfinished document {DocumentId}; queued it again as stream entry {EntryId}")]
    private partial void LogJobLost(string documentId, string entryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Enqueue sweep failed; the next one retries")]
    private partial void LogSweepFailed(Exception exception);
}
