using System.Diagnostics;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.ServiceDefaults.Resilience;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Reads jobs from the jobs streams (<see cref="JobStreams.Jobs"/>, interactive, and <see cref="JobStreams.BatchJobs"/>)
/// as a member of <see cref="JobStreams.ConsumerGroup"/>, one at a time, by the priority rule of
/// <see cref="JobStore.TakeNextAsync"/> (Req LS-2): interactive first; batch when interactive has nothing; a batch job
/// that waited past <c>Worker:BatchMaxWaitSeconds</c> first, but never on two claims in a row of this worker.
/// StackExchange.Redis has no blocking XREADGROUP (one multiplexed socket), so it polls with
/// adaptive backoff, woken early by a pub/sub nudge. At start it finishes its own pending entries; every
/// reclaim interval it takes over entries that other (dead) consumers left idle past the visibility timeout (both
/// streams, interactive first); before every read it moves retries that are due from the retry set back into their stream. What happens to an entry
/// after its delivery (acknowledge, retry later, dead-letter, leave pending) is decided by <see cref="JobProcessor"/>.
/// Redis being down or restarted without data (NOGROUP) is logged and waited out, never fatal.
/// </summary>
internal sealed class JobConsumer(
    IConnectionMultiplexer redis,
    JobStore jobs,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    FaultInjector faults,
    WorkerMetrics metrics,
    ResilienceMetrics resilience,
    ILogger<JobConsumer> logger) : BackgroundService
{
    private const int PendingPageSize = 10;
    private const int PromoteBatch = 100;
    private static readonly RedisValue FirstId = "0-0";

    private readonly WorkerOptions _options = options.Value;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private ChannelMessageQueue? _wakeSubscription;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // .NET 10 runs ExecuteAsync on a background thread, so PdfPig's CPU work never blocks host start-up.
        var consumer = _options.ConsumerName;
        var backoff = new PollBackoff(_options.PollMinDelay, _options.PollMaxDelay);
        var groupReady = false;
        var ownPendingDone = false;
        var lastTakeAged = false;
        var nextReclaim = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        Log.ConsumerStarting(logger, consumer, string.Join(", ", JobStreams.AllJobs), JobStreams.ConsumerGroup);
        faults.Announce();
        RemoveOrphanedWorkFolders();

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!groupReady)
                {
                    await jobs.EnsureGroupAsync();
                    groupReady = true;
                }

                await EnsureWakeSubscriptionAsync();

                if (!ownPendingDone)
                {
                    await ProcessOwnPendingAsync(consumer, stoppingToken);
                    ownPendingDone = true;
                }

                if (clock.Elapsed >= nextReclaim)
                {
                    await ReclaimAsync(consumer, stoppingToken);
                    // Workers killed while this one runs leave folders too: look for them as often as for their jobs.
                    RemoveOrphanedWorkFolders();
                    nextReclaim = clock.Elapsed + _options.ReclaimInterval;
                }

                if (await jobs.PromoteDueAsync(PromoteBatch) is > 0 and var promoted)
                {
                    Log.Promoted(logger, promoted);
                }

                // An aged batch job goes first at most every other claim, so interactive jobs keep at least half.
                var taken = await jobs.TakeNextAsync(consumer, _options.BatchMaxWait, agedAllowed: !lastTakeAged);
                lastTakeAged = taken?.Aged == true;
                if (taken is not null)
                {
                    backoff.Reset();
                    metrics.JobTaken(taken.Job.Priority, taken.Aged);
                    if (taken.Aged)
                    {
                        Log.TakenAged(logger, taken.Job.EntryId, _options.BatchMaxWaitSeconds);
                    }

                    await HandleAsync(taken.Job, fresh: true, stoppingToken);
                    continue;
                }

                var untilReclaim = nextReclaim - clock.Elapsed;
                await WaitAsync(Min(backoff.Next(), untilReclaim), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // Redis lost the group (restarted without persistence): recreate it, and re-read our own pending
                // entries. NOGROUP fails instantly, so back off or this would spin.
                Log.GroupMissing(logger, string.Join(", ", JobStreams.AllJobs), JobStreams.ConsumerGroup);
                groupReady = false;
                ownPendingDone = false;
                await DelayAsync(backoff.Next(), stoppingToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Log.RedisUnavailable(logger, ex.GetType().Name, ex.Message);
                await DelayAsync(backoff.Next(), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never let the loop die (that would stop the host): log, back off, go on.
                Log.LoopError(logger, ex);
                await DelayAsync(_options.PollMaxDelay, stoppingToken);
            }
        }

        Log.ConsumerStopped(logger, consumer);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_wakeSubscription is not null)
        {
            await _wakeSubscription.UnsubscribeAsync();
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Subscribes to the wake channel (at most once; the multiplexer resubscribes after reconnects). A nudge only
    /// shortens the current wait: pub/sub is at-most-once, so the poll remains the safety net.
    /// </summary>
    private void RemoveOrphanedWorkFolders()
    {
        if (WorkFolders.RemoveOrphans(_options, logger) is > 0 and var orphans)
        {
            Log.OrphansRemoved(logger, orphans);
        }
    }

    private async Task EnsureWakeSubscriptionAsync()
    {
        if (_wakeSubscription is not null)
        {
            return;
        }

        ChannelMessageQueue queue;
        try
        {
            queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(JobStreams.WakeChannel));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Best effort: without the nudge the poll still finds every job. Try again on the next round.
            Log.WakeUnavailable(logger, ex.Message);
            return;
        }

        queue.OnMessage(_ =>
        {
            if (_wake.CurrentCount == 0)
            {
                try
                {
                    _wake.Release();
                }
                catch (SemaphoreFullException)
                {
                    // Already signalled by a concurrent nudge.
                }
            }
        });
        _wakeSubscription = queue;
    }

    /// <summary>Entries delivered to this consumer earlier and never acknowledged (e.g. before a crash or restart), interactive first.</summary>
    private async Task ProcessOwnPendingAsync(string consumer, CancellationToken stoppingToken)
    {
        foreach (var stream in JobStreams.AllJobs)
        {
            RedisValue after = FirstId;
            while (!stoppingToken.IsCancellationRequested)
            {
                var entries = await jobs.ReadOwnPendingAsync(stream, consumer, after, PendingPageSize);
                if (entries.Length == 0)
                {
                    break;
                }

                Log.ResumingOwnPending(logger, entries.Length);
                foreach (var entry in entries)
                {
                    await HandleAsync(JobMessage.From(entry, stream), fresh: false, stoppingToken);
                    after = entry.Id;
                    if (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// <summary>
    /// XAUTOCLAIM entries idle longer than the visibility timeout, one at a time (so a claimed entry does not sit
    /// idle behind another long job), until the cursor returns to 0-0; the interactive stream first, then batch.
    /// </summary>
    private async Task ReclaimAsync(string consumer, CancellationToken stoppingToken)
    {
        foreach (var stream in JobStreams.AllJobs)
        {
            await ReclaimAsync(stream, consumer, stoppingToken);
        }
    }

    private async Task ReclaimAsync(string stream, string consumer, CancellationToken stoppingToken)
    {
        RedisValue cursor = FirstId;
        do
        {
            var result = await jobs.AutoClaimAsync(stream, consumer, _options.VisibilityTimeout, cursor);
            foreach (var deleted in result.DeletedIds)
            {
                // Redis 7+ drops pending ids whose entry was deleted or trimmed: that job is lost to the queue.
                Log.EntryLost(logger, deleted.ToString());
                metrics.EntryLost();
            }

            foreach (var entry in result.ClaimedEntries)
            {
                Log.Reclaimed(logger, entry.Id.ToString());
                await HandleAsync(JobMessage.From(entry, stream), fresh: false, stoppingToken);
            }

            cursor = result.NextStartId;
        }
        while (cursor != FirstId && !stoppingToken.IsCancellationRequested);
    }

    /// <param name="job">The delivered entry, with the stream it came from.</param>
    /// <param name="fresh">Read with "&gt;" (first delivery); otherwise its delivery count is asked from Redis.</param>
    /// <param name="stoppingToken">The worker is shutting down.</param>
    private async Task HandleAsync(JobMessage job, bool fresh, CancellationToken stoppingToken)
    {
        JobResult result;
        long deliveries = 0;
        // The consumer span continues the trace of whoever added the job (the upload, the sweeper, a retry) and stays
        // current until the entry is settled, so a retry's producer span is its child.
        using var activity = job.DocumentId is null ? null : StartActivity(job);
        if (job.DocumentId is null)
        {
            // A pending id whose entry is gone, or a malformed job: nothing can ever process it.
            Log.MalformedEntry(logger, job.EntryId);
            result = JobResult.Discarded;
        }
        else
        {
            deliveries = (fresh ? 1 : await jobs.DeliveryCountAsync(job)) + job.Attempts;
            activity?.SetTag("suite.job.delivery", deliveries);
            // A scope per job: the typed IngestClient (and its pooled handler) is not held for the process lifetime.
            await using var scope = scopes.CreateAsyncScope();
            var processor = scope.ServiceProvider.GetRequiredService<JobProcessor>();
            result = await processor.ProcessAsync(job, deliveries, stoppingToken);
            activity?.SetTag("suite.job.outcome", result.Outcome.ToMetricName());
        }

        metrics.JobHandled(result.Outcome);
        switch (result.Outcome)
        {
            case var outcome when outcome.ShouldAcknowledge():
                await jobs.AckAsync(job);
                break;
            case JobOutcome.DeadLettered:
                if (await jobs.DeadLetterAsync(_options.ConsumerName, job, deliveries, result.Reason ?? "dead-lettered"))
                {
                    metrics.DeadLettered();
                }
                else
                {
                    Log.NotOurs(logger, job.EntryId);
                }

                break;
            case JobOutcome.Retry or JobOutcome.Wait:
                var next = job.Next(countsAsAttempt: result.Outcome == JobOutcome.Retry, result.Reason ?? "retry", deliveries);
                using (var produce = StartRetryActivity(next, result))
                {
                    // The retry entry carries this span's context, so its next delivery joins the same trace.
                    next = next.WithTraceParent(produce?.Id ?? Activity.Current?.Id);
                    if (!await jobs.RetryLaterAsync(_options.ConsumerName, next, result.Delay))
                    {
                        Log.NotOurs(logger, job.EntryId);
                    }
                }

                metrics.Retried(result.Outcome);
                resilience.Retry("job", result.Outcome.ToMetricName());
                break;
        }
    }

    /// <summary>Continues the trace of the upload that enqueued the job (traceparent field), if any.</summary>
    private static Activity? StartActivity(JobMessage job)
    {
        ActivityContext.TryParse(job.TraceParent, null, isRemote: true, out var parent);
        var activity = WorkerMetrics.ActivitySource.StartActivity("process " + job.Stream, ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", job.Stream);
        activity?.SetTag("suite.job.priority", job.Priority);
        activity?.SetTag("messaging.consumer.group.name", JobStreams.ConsumerGroup);
        activity?.SetTag("messaging.message.id", job.EntryId);
        activity?.SetTag("suite.document.id", job.DocumentId);
        activity?.SetTag("suite.job.attempts", job.Attempts);
        return activity;
    }

    /// <summary>Putting the job in the retry set is a send to its jobs stream (it comes back there when due).</summary>
    private static Activity? StartRetryActivity(JobMessage next, JobResult result)
    {
        var activity = WorkerMetrics.ActivitySource.StartActivity("send " + next.Stream, ActivityKind.Producer);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", next.Stream);
        activity?.SetTag("suite.document.id", next.DocumentId);
        activity?.SetTag("suite.job.retry_of", next.EntryId);
        activity?.SetTag("suite.job.kind", result.Outcome.ToMetricName());
        activity?.SetTag("suite.job.delay_ms", (long)result.Delay.TotalMilliseconds);
        return activity;
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        if (delay > TimeSpan.Zero)
        {
            await _wake.WaitAsync(delay, stoppingToken);
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the loop condition ends the consumer.
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>Delay after empty polls and errors: from min doubling to max, with jitter so replicas do not poll in step.</summary>
internal sealed class PollBackoff(TimeSpan min, TimeSpan max)
{
    private readonly TimeSpan _min = min;
    private readonly TimeSpan _max = max;
    private TimeSpan _current = min;

    public void Reset() => _current = _min;

    public TimeSpan Next()
    {
        var delay = _current;
        _current = TimeSpan.FromTicks(Math.Min(_max.Ticks, _current.Ticks * 2));
        // Jitter: 50-100 % of the nominal delay.
        return TimeSpan.FromTicks((long)(delay.Ticks * (0.5 + (Random.Shared.NextDouble() / 2))));
    }
}
