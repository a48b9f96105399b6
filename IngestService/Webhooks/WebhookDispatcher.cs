using IngestService.Catalog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;

namespace IngestService.Webhooks;

/// <summary>
/// Delivers the outbox at least once (Req OUT-1): every <c>Webhooks:PollMilliseconds</c> it takes the due pending
/// deliveries (claimed in the catalog, so that a dispatcher killed mid-round leaves them to be taken again after
/// <c>Webhooks:ClaimSeconds</c>) and runs one round of each (<see cref="WebhookSender"/>), a few at once. A round's
/// outcome is written back: delivered; dead-lettered when the receiver's answer is final (a 4xx other than 408/429, a
/// redirect, a forbidden address) or the budget is spent (Webhooks:MaxAttempts, Webhooks:MaxAgeSeconds); otherwise
/// pending again after the round's backoff (<see cref="WebhookBackoff"/>), or when the destination's open breaker lets a
/// probe through, without counting an attempt. All its state is the outbox row, so a restart continues where it was.
/// </summary>
internal sealed partial class WebhookDispatcher(
    WebhookDeliveries deliveries,
    WebhookSender sender,
    WebhookMetrics metrics,
    CatalogState catalogState,
    CatalogDb catalogDb,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            LogDisabled();
            return;
        }

        using var timer = new PeriodicTimer(options.Value.Poll, time);
        do
        {
            try
            {
                await DispatchOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is SqliteException or CatalogUnavailableException or DatabaseReadOnlyException)
            {
                LogRoundFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One poll; returns how many deliveries had a round.</summary>
    internal async Task<int> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        if (!catalogState.IsAvailable || catalogDb.Database.WriteRefusal() is not null)
        {
            return 0;
        }

        var o = options.Value;
        var due = await deliveries.TakeDueAsync(o.BatchSize, o.Claim, cancellationToken);
        if (due.Count > 0)
        {
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = o.MaxConcurrency, CancellationToken = cancellationToken },
                async (delivery, ct) => await RunRoundAsync(delivery, ct));
        }

        metrics.SetPending(await deliveries.CountPendingAsync(cancellationToken));
        return due.Count;
    }

    private async Task RunRoundAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var secret = delivery.Subscription == WebhookSubscriptions.Callback
            ? delivery.CallbackSecret
            : o.Subscriptions.TryGetValue(delivery.Subscription, out var configured) ? configured.Secret : null;
        var round = secret is null
            ? new WebhookRound(WebhookRoundKind.Permanent, 0, Error: $"the subscription '{delivery.Subscription}' is no longer configured (Webhooks:Subscriptions)")
            : await sender.SendAsync(delivery, secret, cancellationToken);

        var now = time.GetUtcNow();
        var attempts = delivery.Attempts + round.Attempts;
        switch (round.Kind)
        {
            case WebhookRoundKind.Delivered:
                await deliveries.RecordAsync(delivery.Id, round.Attempts, WebhookOutbox.Delivered, null, round.StatusCode, null, CancellationToken.None);
                metrics.Round("delivered");
                LogDelivered(delivery.Id, delivery.DocumentId, delivery.Subscription, attempts);
                return;
            case WebhookRoundKind.Permanent:
                await DeadLetterAsync(delivery, round, round.Error!);
                return;
        }

        var spent = attempts >= o.MaxAttempts ? $"{attempts} attempts (Webhooks:MaxAttempts)"
            : now - delivery.CreatedAt >= o.MaxAge ? $"{(int)(now - delivery.CreatedAt).TotalSeconds} s since it was written (Webhooks:MaxAgeSeconds)"
            : null;
        if (spent is not null)
        {
            await DeadLetterAsync(delivery, round, $"{round.Error}; gave up after {spent}");
            return;
        }

        // A breaker's open time is the wait, and no request was made; otherwise the next round of the backoff.
        var rounds = Math.Max(1, attempts / (o.RetriesPerRound + 1));
        var wait = round.Kind == WebhookRoundKind.BreakerOpen
            ? round.RetryAfter ?? TimeSpan.FromSeconds(o.BreakerBreakSeconds)
            : WebhookBackoff.Delay(rounds, o.RoundDelay, o.MaxRoundDelay, round.RetryAfter, Random.Shared.NextDouble());
        await deliveries.RecordAsync(delivery.Id, round.Attempts, WebhookOutbox.Pending, now + wait, round.StatusCode, round.Error, CancellationToken.None);
        metrics.Round(round.Kind == WebhookRoundKind.BreakerOpen ? "breaker_open" : "retry_scheduled");
        LogRetryScheduled(delivery.Id, delivery.DocumentId, attempts, wait.TotalSeconds, round.Error ?? "-");
    }

    private async Task DeadLetterAsync(WebhookDelivery delivery, WebhookRound round, string error)
    {
        await deliveries.RecordAsync(delivery.Id, round.Attempts, WebhookOutbox.DeadLettered, null, round.StatusCode, error, CancellationToken.None);
        metrics.Round("dead_lettered");
        LogDeadLettered(delivery.Id, delivery.DocumentId, delivery.Subscription, error);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {WebhookId} of document {DocumentId} delivered to {Subscription} after {Attempts} attempts")]
    private partial void LogDelivered(string webhookId, string documentId, string subscription, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} of document {DocumentId}: attempt {Attempts} failed, next round in {WaitSeconds:F1} s: {Error}")]
    private partial void LogRetryScheduled(string webhookId, string documentId, int attempts, double waitSeconds, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook {WebhookId} of document {DocumentId} to {Subscription} DEAD-LETTERED: {Error}")]
    private partial void LogDeadLettered(string webhookId, string documentId, string subscription, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook delivery is switched off (Webhooks:Enabled=false): notifications wait in the outbox")]
    private partial void LogDisabled();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook dispatch round failed; the next poll retries: {Error}")]
    private partial void LogRoundFailed(string error);
}
