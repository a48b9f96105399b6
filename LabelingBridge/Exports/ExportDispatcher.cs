using System.Diagnostics;
using LabelingBridge.Configuration;
using LabelingBridge.Ingest;
using LabelingBridge.LabelStudio;
using LabelingBridge.Outbox;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace LabelingBridge.Exports;

/// <summary>Wakes the dispatcher early (a new export, credentials working again).</summary>
public sealed class ExportSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Drains the outbox: claims due exports and delivers them with bounded parallelism. Sends nothing while the
/// credentials are rejected, while the breaker is open or before a Retry-After has passed; such holds do not count
/// as attempts. Failures are rescheduled with capped, jittered backoff (never before a Retry-After); permanent ones
/// and exports past the attempt limit end as failed with their reason.
/// </summary>
internal sealed partial class ExportDispatcher(
    ExportOutbox outbox,
    ExportDelivery delivery,
    ExportSignal signal,
    CredentialState credentials,
    CircuitBreakerStates breakers,
    RetryAfterGate gate,
    IOptions<OutboxOptions> outboxOptions,
    IOptions<LabelStudioOptions> labelStudio,
    BridgeMetrics metrics,
    TimeProvider time,
    StartupGate startup,
    ILogger<ExportDispatcher> logger) : BackgroundService
{
    private readonly RetryBackoff _backoff = new(
        TimeSpan.FromSeconds(outboxOptions.Value.RetryBaseDelaySeconds), TimeSpan.FromSeconds(outboxOptions.Value.RetryMaxDelaySeconds));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!labelStudio.Value.Enabled)
        {
            return;
        }

        // The outbox is opened and checked by a start-up step after the server listens: nothing here touches it before
        // (nor ever, when start-up stopped at a damaged outbox: the bridge stays live and not ready, saying why).
        if (!await startup.OwnStepsDoneAsync(stoppingToken))
        {
            return;
        }

        var options = outboxOptions.Value;
        var poll = TimeSpan.FromSeconds(options.PollIntervalSeconds);
        credentials.Recovered += signal.Notify;
        try
        {
            var recovered = await outbox.RecoverInterruptedAsync(stoppingToken);
            if (recovered > 0)
            {
                LogRecovered(logger, recovered);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = poll;
                try
                {
                    if (HeldFor() is { } held)
                    {
                        wait = held < poll ? held : poll;
                    }
                    else
                    {
                        var batch = await outbox.ClaimDueAsync(options.DeliveryConcurrency, stoppingToken);
                        if (batch.Count > 0)
                        {
                            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = options.DeliveryConcurrency },
                                (export, _) => new ValueTask(DeliverAsync(export, stoppingToken)));
                            continue;
                        }
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogLoopFailed(logger, ex);
                }

                await signal.WaitAsync(wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            credentials.Recovered -= signal.Notify;
        }
    }

    /// <summary>How long nothing should be sent to Label Studio, or null when deliveries may go.</summary>
    private TimeSpan? HeldFor()
    {
        var now = time.GetUtcNow();
        if (credentials.IsRejected)
        {
            return TimeSpan.MaxValue;
        }

        if (gate.Remaining() is { } wait)
        {
            return wait;
        }

        return breakers.OpenUntil(LabelStudioClientExtensions.IsLabelStudio) is { } until ? until - now : null;
    }

    private async Task DeliverAsync(ExportRecord export, CancellationToken stoppingToken)
    {
        using var activity = BridgeTracing.StartDelivery(export);
        try
        {
            var result = await delivery.DeliverAsync(export.DocumentId, stoppingToken);
            activity?.SetTag("suite.export.outcome", "delivered");
            await outbox.MarkDeliveredAsync(export.Id, result.ProjectId, result.TasksCreated, result.TasksExisting, countAttempt: true, CancellationToken.None);
            metrics.Delivery("delivered", null);
            LogDelivered(logger, export.Id, export.DocumentId, result.ProjectId, result.TasksCreated, result.TasksExisting);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await outbox.RescheduleAsync(export.Id, time.GetUtcNow(), "interrupted", "The bridge stopped during delivery; it resumes on the next start.", countAttempt: false, CancellationToken.None);
        }
        catch (LabelStudioException ex)
        {
            var e = ex.Error;
            // Not retried within an operation, but worth another delivery later: the outbox waits them out.
            var later = e.Retryable || e.Code is LabelStudioErrorCodes.CredentialsRejected or LabelStudioErrorCodes.BreakerOpen;
            await HandleFailureAsync(export, e.Code, e.Message, later, e.NotSent, e.RetryAfter);
        }
        catch (DeliveryException ex)
        {
            await HandleFailureAsync(export, ex.Code, ex.Message, ex.Retryable, notSent: false, retryAfter: null);
        }
        catch (IngestUnavailableException ex)
        {
            await HandleFailureAsync(export, "ingest_unavailable", ex.Message, retryable: true, notSent: false, retryAfter: null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogUnexpected(logger, ex, export.Id);
            await HandleFailureAsync(export, "internal_error", "Unexpected error during delivery; see the bridge's log.", retryable: true, notSent: false, retryAfter: null);
        }
    }

    private async Task HandleFailureAsync(ExportRecord export, string code, string message, bool retryable, bool notSent, TimeSpan? retryAfter)
    {
        var now = time.GetUtcNow();
        Activity.Current?.SetStatus(ActivityStatusCode.Error, code);
        Activity.Current?.SetTag("suite.export.outcome", code);
        Activity.Current?.SetTag(ErrorKinds.Label, ErrorKinds.Of(code));
        if (notSent)
        {
            // Held back by the bridge itself (breaker open, Retry-After, known-bad credentials): not an attempt.
            var next = now + (retryAfter ?? TimeSpan.FromSeconds(outboxOptions.Value.PollIntervalSeconds));
            await outbox.RescheduleAsync(export.Id, next, code, message, countAttempt: false, CancellationToken.None);
            metrics.Delivery("deferred", code);
            LogDeferred(logger, export.Id, code, next);
            return;
        }

        var attempts = export.Attempts + 1;
        if (!retryable || attempts >= outboxOptions.Value.MaxAttempts)
        {
            var reason = retryable ? $"Gave up after {attempts} attempts; last error: {message}" : message;
            await outbox.FailAsync(export.Id, code, reason, countAttempt: true, CancellationToken.None);
            metrics.Delivery("failed", code);
            LogFailed(logger, export.Id, export.DocumentId, code, ErrorKinds.Of(code), reason);
            return;
        }

        if (code == LabelStudioErrorCodes.CredentialsRejected)
        {
            // No retries: the export waits until the probe sees working credentials.
            await outbox.RescheduleAsync(export.Id, now, code, message, countAttempt: true, CancellationToken.None);
            metrics.Delivery("deferred", code);
            LogDeferred(logger, export.Id, code, now);
            return;
        }

        var at = now + _backoff.DelayFor(attempts, retryAfter);
        await outbox.RescheduleAsync(export.Id, at, code, message, countAttempt: true, CancellationToken.None);
        metrics.Delivery("retry_scheduled", code);
        LogRetryScheduled(logger, export.Id, attempts, code, ErrorKinds.Of(code), at, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} of document {DocumentId} delivered to project {ProjectId}: {Created} tasks created, {Existing} already there")]
    private static partial void LogDelivered(ILogger logger, string exportId, string documentId, int projectId, int created, int existing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Export {ExportId} attempt {Attempt} failed with {ErrorCode} ({ErrorKind}); next attempt at {NextAttemptAt:o}: {Reason}")]
    private static partial void LogRetryScheduled(ILogger logger, string exportId, int attempt, string errorCode, string errorKind, DateTimeOffset nextAttemptAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Export {ExportId} held ({ErrorCode}) until {NextAttemptAt:o}")]
    private static partial void LogDeferred(ILogger logger, string exportId, string errorCode, DateTimeOffset nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} of document {DocumentId} FAILED with {ErrorCode} ({ErrorKind}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string exportId, string documentId, string errorCode, string errorKind, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error delivering export {ExportId}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string exportId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Export dispatcher loop failed; trying again")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} exports interrupted by the last stop are pending again")]
    private static partial void LogRecovered(ILogger logger, int count);
}
