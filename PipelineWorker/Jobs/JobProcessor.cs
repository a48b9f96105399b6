using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Stages;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Processes one delivery of a job: claim a lease (refused while another worker's lease is live), dead-letter the
/// job if its deliveries ran out, otherwise download the upload into a private work folder and run the remaining
/// stages (resuming from the stored checkpoints) while a <see cref="LeaseKeeper"/> renews the lease, then submit
/// the result. Classifies what happened into a <see cref="JobResult"/> that tells the consumer what to do with the
/// stream entry; never throws.
/// </summary>
internal sealed class JobProcessor(
    IngestClient ingest,
    DocumentPipeline pipeline,
    JobStore jobs,
    IOptions<WorkerOptions> options,
    WorkerMetrics metrics,
    ILogger<JobProcessor> logger)
{
    private readonly WorkerOptions _options = options.Value;

    /// <param name="job">The job as read from the stream.</param>
    /// <param name="deliveries">This delivery's number: the entry's delivery count plus the job's earlier attempts.</param>
    /// <param name="stoppingToken">The worker is shutting down.</param>
    public async Task<JobResult> ProcessAsync(JobMessage job, long deliveries, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var documentId = job.DocumentId ?? "";
        if (!IsPlainDocumentId(documentId))
        {
            Log.InvalidDocumentId(logger, documentId);
            return JobResult.Discarded;
        }

        var claim = await ClaimAsync(job, documentId, stoppingToken);
        if (claim.Result is { } refused)
        {
            return refused;
        }

        var lease = claim.Claim!;
        await RestartIdleClockAsync(job);
        if (deliveries > _options.MaxDeliveries)
        {
            // Every earlier delivery ended without a word (a crash, a kill) or transiently: give up on it.
            return await DeadLetterAsync(lease, deliveries, lease.LastError ?? job.LastError ?? "no reason was recorded", stoppingToken);
        }

        // The budget is the document's, not the attempt's: earlier attempts' processing time is deducted (TMO-3).
        var usedBefore = TimeSpan.FromMilliseconds(lease.BudgetUsedMs);
        if (_options.DocumentBudget - usedBefore <= TimeSpan.Zero)
        {
            return await FailAsync(lease, pipeline.BudgetExceeded(null, null, usedBefore), stoppingToken);
        }

        await using var keeper = new LeaseKeeper(ingest, jobs, _options.ConsumerName, job, lease, _options.HeartbeatInterval, logger);
        using var budget = new CancellationTokenSource(_options.DocumentBudget - usedBefore);
        using var document = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, keeper.Token, budget.Token);
        var progress = new Progress();
        try
        {
            await RunAsync(lease, progress, document.Token, stoppingToken);
            return JobResult.Completed;
        }
        catch (PipelineFailure failure)
        {
            return await FailAsync(lease, failure, stoppingToken);
        }
        catch (Exception ex) when (IngestUnavailableException.Find(ex) is { } unavailable)
        {
            return await WaitForIngestAsync(job, lease, unavailable, stoppingToken);
        }
        catch (TransientStageException ex)
        {
            return await RetryAsync(lease, deliveries, ex.Message, stoppingToken, ex.IsTimeout ? ErrorKinds.Timeout : ErrorKinds.Server);
        }
        catch (LeaseLostException ex)
        {
            Log.LeaseLost(logger, documentId, ex.Message);
            return JobResult.LeaseLost;
        }
        catch (DocumentFinishedException ex)
        {
            Log.AlreadyTerminal(logger, documentId, ex.Code);
            return JobResult.AlreadyTerminal;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Log.Abandoned(logger, documentId, progress.Stage ?? "(none)");
            return JobResult.Abandoned;
        }
        catch (OperationCanceledException) when (keeper.End == LeaseEnd.Lost)
        {
            return JobResult.LeaseLost;
        }
        catch (OperationCanceledException) when (keeper.End == LeaseEnd.Finished)
        {
            Log.StoppedFinished(logger, documentId, progress.Stage ?? "(none)");
            return JobResult.AlreadyTerminal;
        }
        catch (OperationCanceledException ex) when (budget.IsCancellationRequested)
        {
            return await FailAsync(lease, pipeline.BudgetExceeded(progress.Stage, ex, usedBefore), stoppingToken);
        }
        catch (IngestRejectedException ex)
        {
            // A contract mismatch with IngestService: a defect, counted so it cannot loop forever.
            Log.Unexpected(logger, ex, documentId);
            return await RetryAsync(lease, deliveries, ex.Message, stoppingToken);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // IngestService, the network or the local disk failed while the document was held. Counted as an attempt:
            // a failure that repeats for this document only (its upload unreadable, say) must end dead-lettered with
            // its reason rather than loop forever; a short outage is absorbed by the retry backoff.
            return await RetryAsync(lease, deliveries, $"{ex.GetType().Name}: {ex.Message}", stoppingToken,
                ex is TimeoutRejectedException or TimeoutException ? ErrorKinds.Timeout : ErrorKinds.Server);
        }
        catch (Exception ex)
        {
            Log.Unexpected(logger, ex, documentId);
            return await RetryAsync(lease, deliveries, $"{ex.GetType().Name}: {ex.Message}", stoppingToken);
        }
    }

    private async Task<(ClaimResponse? Claim, JobResult? Result)> ClaimAsync(JobMessage job, string documentId, CancellationToken stoppingToken)
    {
        try
        {
            var claim = await ingest.ClaimAsync(documentId, _options.ConsumerName, _options.VisibilityTimeoutSeconds, stoppingToken);
            if (claim is null)
            {
                Log.UnknownDocument(logger, documentId);
                return (null, JobResult.Discarded);
            }

            if (DocumentStatus.IsTerminal(claim.Status))
            {
                Log.AlreadyTerminal(logger, documentId, claim.Status);
                return (null, JobResult.AlreadyTerminal);
            }

            return (claim, null);
        }
        catch (LeaseHeldException ex)
        {
            // A duplicate delivery while the owner is alive: come back after its lease would have expired.
            var delay = Max(RetryBackoff.For(job.Waits + 1, _options.RetryBaseDelay, _options.RetryMaxDelay), ex.RetryAfter ?? TimeSpan.Zero);
            Log.Duplicate(logger, documentId, ex.Message, delay.TotalSeconds);
            return (null, new JobResult(JobOutcome.Wait, ex.Message, delay));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return (null, JobResult.Abandoned);
        }
        catch (Exception ex) when (IsTransient(ex) || ex is IngestRejectedException)
        {
            var delay = RetryBackoff.For(job.Waits + 1, _options.RetryBaseDelay, _options.RetryMaxDelay);
            var reason = $"The document could not be claimed ({ex.GetType().Name}: {ex.Message})";
            Log.Transient(logger, documentId, reason, delay.TotalSeconds);
            return (null, new JobResult(JobOutcome.Wait, reason, delay));
        }
    }

    private async Task RunAsync(ClaimResponse claim, Progress progress, CancellationToken documentToken, CancellationToken stoppingToken)
    {
        var documentId = claim.DocumentId;
        var lease = claim.LeaseToken;
        var workDirectory = WorkFolders.ForDocument(_options, documentId);
        try
        {
            WorkFolders.Delete(workDirectory, logger);
            var context = new StageContext(documentId, claim.FileName, workDirectory) { LeaseToken = lease, Options = claim.Options ?? DocumentOptions.Default };
            var fingerprint = context.Options.Fingerprint();
            await ingest.DownloadContentAsync(documentId, lease, context.ContentPath, claim.SizeBytes, documentToken);

            // Resume: a stage with a stored, valid, usable checkpoint is skipped; once one stage runs, all later ones
            // run. IngestService quarantines a damaged checkpoint on download (404), so the stage before it is where
            // processing resumes (Req CK-2, CK-5).
            var resuming = true;
            foreach (var stage in pipeline.Stages)
            {
                progress.Stage = stage.Name;
                if (resuming && claim.CheckpointedStages.Contains(stage.Name)
                    && await ingest.GetCheckpointAsync(documentId, lease, stage.Name, context.CheckpointPath(stage.Name), documentToken, fingerprint)
                    && await stage.IsCheckpointUsableAsync(context, documentToken))
                {
                    Log.StageResumed(logger, documentId, stage.Name);
                    continue;
                }

                resuming = false;
                await RunStageAsync(stage, context, lease, documentToken, stoppingToken);
            }

            progress.Stage = null;
            await ingest.SubmitResultAsync(documentId, lease, AssembleStage.SubmissionPath(context), documentToken);
            Log.Completed(logger, documentId, lease);
        }
        finally
        {
            WorkFolders.Delete(workDirectory, logger);
        }
    }

    private async Task RunStageAsync(IPipelineStage stage, StageContext context, long lease, CancellationToken documentToken, CancellationToken stoppingToken)
    {
        var documentId = context.DocumentId;
        await ingest.ReportStageAsync(documentId, lease, stage.Name, new StageReport(StageStatus.Running), documentToken);
        StageResult result;
        await using (var progress = _options.ProgressIntervalMs > 0
                         ? new PageProgressReporter(ingest, documentId, lease, stage.Name, _options.ProgressInterval, logger)
                         : null)
        {
            context.PageProgress = progress is null ? null : progress.Report;
            try
            {
                result = await pipeline.RunStageAsync(stage, context, documentToken, stoppingToken);
            }
            finally
            {
                context.PageProgress = null;
            }
        }

        await ingest.PutCheckpointAsync(documentId, lease, stage.Name, context.CheckpointPath(stage.Name), documentToken, context.Options.Fingerprint());
        await ingest.ReportStageAsync(documentId, lease, stage.Name, new StageReport(result.Status, result.Detail), documentToken);
        Log.StageDone(logger, documentId, stage.Name, result.Status);
    }

    private async Task<JobResult> FailAsync(ClaimResponse claim, PipelineFailure failure, CancellationToken stoppingToken)
    {
        var documentId = claim.DocumentId;
        try
        {
            if (failure.Stage is not null)
            {
                await ingest.ReportStageAsync(documentId, claim.LeaseToken, failure.Stage, new StageReport(StageStatus.Failed, failure.Message), stoppingToken);
            }

            await ingest.ReportFailureAsync(documentId, claim.LeaseToken, new FailureReport(failure.Code, failure.Message), stoppingToken);
            Log.Failed(logger, documentId, failure.Code, ErrorKinds.Of(failure.Code), failure.Message);
            metrics.DocumentFailed(failure.Code);
            return JobResult.Failed;
        }
        catch (Exception ex)
        {
            return WhenReportFailed(documentId, ex, stoppingToken);
        }
    }

    /// <summary>A transient failure: release the document and retry the job after a backoff, or dead-letter it when its deliveries ran out.</summary>
    private async Task<JobResult> RetryAsync(ClaimResponse claim, long deliveries, string reason, CancellationToken stoppingToken, string errorKind = ErrorKinds.Server)
    {
        if (deliveries >= _options.MaxDeliveries)
        {
            return await DeadLetterAsync(claim, deliveries, reason, stoppingToken);
        }

        var delay = RetryBackoff.For((int)Math.Min(deliveries, int.MaxValue), _options.RetryBaseDelay, _options.RetryMaxDelay);
        Log.Retrying(logger, claim.DocumentId, deliveries, _options.MaxDeliveries, errorKind, reason, delay.TotalSeconds);
        try
        {
            await ingest.ReleaseAsync(claim.DocumentId, claim.LeaseToken, new ReleaseReport(reason, DateTimeOffset.UtcNow + delay), stoppingToken);
        }
        catch (Exception ex) when (ex is LeaseLostException or DocumentFinishedException || (ex is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            return WhenReportFailed(claim.DocumentId, ex, stoppingToken);
        }
        catch (Exception ex) when (IsTransient(ex) || ex is IngestRejectedException)
        {
            // The retry still happens; the lease simply expires by itself.
            Log.ReleaseFailed(logger, claim.DocumentId, ex.Message);
        }

        return new JobResult(JobOutcome.Retry, reason, delay);
    }

    /// <summary>
    /// IngestService cannot serve anything right now: release the document (best effort: its lease expires anyway) and
    /// put the job back after a backoff, without counting the attempt against the document.
    /// </summary>
    private async Task<JobResult> WaitForIngestAsync(JobMessage job, ClaimResponse claim, IngestUnavailableException unavailable, CancellationToken stoppingToken)
    {
        var delay = Max(RetryBackoff.For(job.Waits + 1, _options.RetryBaseDelay, _options.RetryMaxDelay), unavailable.RetryAfter ?? TimeSpan.Zero);
        var reason = $"IngestService unavailable ({unavailable.Code}): {unavailable.Message}";
        Log.Transient(logger, claim.DocumentId, reason, delay.TotalSeconds);
        try
        {
            await ingest.ReleaseAsync(claim.DocumentId, claim.LeaseToken, new ReleaseReport(reason, DateTimeOffset.UtcNow + delay), stoppingToken);
        }
        catch (Exception ex) when (IsTransient(ex) || ex is IngestRejectedException or LeaseLostException or DocumentFinishedException)
        {
            Log.ReleaseFailed(logger, claim.DocumentId, ex.Message);
        }

        return new JobResult(JobOutcome.Wait, reason, delay);
    }

    /// <summary>Ends the document as failed with code dead_lettered and the last reason; the consumer then moves the entry.</summary>
    private async Task<JobResult> DeadLetterAsync(ClaimResponse claim, long deliveries, string reason, CancellationToken stoppingToken)
    {
        var message = $"Gave up after {deliveries} deliveries (Worker:MaxDeliveries is {_options.MaxDeliveries}). Last failure: {reason}";
        try
        {
            await ingest.ReportFailureAsync(claim.DocumentId, claim.LeaseToken, new FailureReport(DeliveryErrorCodes.DeadLettered, message), stoppingToken);
        }
        catch (Exception ex)
        {
            return WhenReportFailed(claim.DocumentId, ex, stoppingToken);
        }

        Log.DeadLettered(logger, claim.DocumentId, message);
        metrics.DocumentFailed(DeliveryErrorCodes.DeadLettered);
        return new JobResult(JobOutcome.DeadLettered, message);
    }

    /// <summary>A final report could not be made: what that means for the job.</summary>
    private JobResult WhenReportFailed(string documentId, Exception ex, CancellationToken stoppingToken)
    {
        switch (ex)
        {
            case LeaseLostException:
                Log.LeaseLost(logger, documentId, ex.Message);
                return JobResult.LeaseLost;
            case DocumentFinishedException finished:
                Log.AlreadyTerminal(logger, documentId, finished.Code);
                return JobResult.AlreadyTerminal;
            case OperationCanceledException when stoppingToken.IsCancellationRequested:
                return JobResult.Abandoned;
            default:
                // Not recorded yet: keep the entry pending so the next delivery reports it again.
                Log.ReportFailed(logger, documentId, ex.GetType().Name, ex.Message);
                return JobResult.Abandoned;
        }
    }

    /// <summary>
    /// The entry's idle clock has run since its delivery, the lease only since the claim: reset the clock now, so the
    /// entry cannot be reclaimed from a dead worker before its lease has expired (which would only be refused).
    /// </summary>
    private async Task RestartIdleClockAsync(JobMessage job)
    {
        try
        {
            await jobs.RenewAsync(_options.ConsumerName, job);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The lease keeper tries again at its first beat.
        }
    }

    /// <summary>Errors of a dependency (network, IngestService, Redis, local disk) that a later attempt may not meet.</summary>
    internal static bool IsTransient(Exception exception) => exception is HttpRequestException
        or TimeoutRejectedException
        or BrokenCircuitException
        or RedisException
        or TimeoutException
        or IOException
        or SocketException
        or UnauthorizedAccessException
        or OperationCanceledException; // an HTTP call cancelled by its own timeout, not by shutdown

    /// <summary>Ids are used in URLs and folder names: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    internal static bool IsPlainDocumentId(string documentId) =>
        documentId.Length is > 0 and <= 200
        && !documentId.StartsWith('.')
        && documentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The stage running now, for the budget's message.</summary>
    private sealed class Progress
    {
        public string? Stage { get; set; }
    }
}
