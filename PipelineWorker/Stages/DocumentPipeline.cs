using System.Diagnostics;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Pdf;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// The stages in order, and how one stage is run: on a thread-pool thread (PdfPig is CPU-bound and must not hold up
/// the consumer loop), under its timeout (<c>Worker:StageTimeouts:{stage}</c>, else <c>Worker:StageTimeoutSeconds</c>),
/// with its exceptions classified (Req TMO-3, RTY-6):
/// <list type="bullet">
/// <item>a permanent failure of the document: <see cref="PipelineFailure"/> (reported, the document fails);</item>
/// <item>a transient one (the stage timed out, the disk failed): <see cref="TransientStageException"/> (the job is
/// retried with backoff, and dead-lettered when its deliveries run out);</item>
/// <item>the caller's cancellation (shutdown, budget, lost lease, cancel): <see cref="OperationCanceledException"/>.</item>
/// </list>
/// Whatever the stage left behind when it did not complete (a partial checkpoint) is deleted.
/// </summary>
internal sealed class DocumentPipeline(
    IEnumerable<IPipelineStage> stages,
    IOptions<WorkerOptions> options,
    WorkerMetrics metrics,
    FaultInjector? faults = null,
    ResilienceMetrics? resilience = null)
{
    public IReadOnlyList<IPipelineStage> Stages { get; } = [.. stages];

    public async Task<StageResult> RunStageAsync(
        IPipelineStage stage,
        StageContext context,
        CancellationToken documentToken,
        CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(context);
        var timeout = options.Value.StageTimeoutFor(stage.Name);
        using var stageCts = CancellationTokenSource.CreateLinkedTokenSource(documentToken, stoppingToken);
        stageCts.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        var status = StageStatus.Failed;
        var completed = false;
        // One child span per stage of the document's trace (Req OBS-2); its outcome is the metric's outcome.
        using var activity = WorkerMetrics.ActivitySource.StartActivity("stage " + stage.Name);
        activity?.SetTag("suite.stage", stage.Name);
        activity?.SetTag("suite.document.id", context.DocumentId);
        try
        {
            var fault = faults?.Find(stage.Name, context.FileName, context.LeaseToken);
            if (fault?.Action == FaultRule.Fail)
            {
                throw new IOException($"Fault injection: transient failure in stage {stage.Name} ({fault}).");
            }

            // WaitAsync: a stage stuck inside one PdfPig call still releases the job when its time is up.
            var run = Task.Run(() => stage.RunAsync(context, stageCts.Token), stageCts.Token);
            if (fault?.Action == FaultRule.Slow)
            {
                await Task.WhenAll(run, Task.Delay(TimeSpan.FromSeconds(fault.Seconds), stageCts.Token)).WaitAsync(stageCts.Token);
            }

            var result = await run.WaitAsync(stageCts.Token);
            if (fault?.Action == FaultRule.Crash)
            {
                faults!.Crash(fault, stage.Name, context.DocumentId);
            }

            status = result.Status;
            completed = true;
            return result;
        }
        catch (PipelineFailure failure) when (failure.Code == FailureCodes.StageTimeout)
        {
            // A stage enforcing its own limit: still a timeout, so transient like the runner's own.
            status = StageOutcomes.Timeout;
            resilience?.Timeout("stage", stage.Name);
            throw new TransientStageException(stage.Name, failure.Message, failure);
        }
        catch (PipelineFailure failure) when (failure.Stage is null)
        {
            failure.Stage = stage.Name;
            throw;
        }
        catch (OperationCanceledException ex) when (!stoppingToken.IsCancellationRequested && !documentToken.IsCancellationRequested && stageCts.IsCancellationRequested)
        {
            status = StageOutcomes.Timeout;
            resilience?.Timeout("stage", stage.Name);
            throw new TransientStageException(
                stage.Name,
                $"Stage {stage.Name} did not finish within {timeout.TotalSeconds:0.#} s; it was cancelled and will be retried.",
                ex);
        }
        catch (OperationCanceledException)
        {
            status = StageOutcomes.Cancelled;
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            status = StageOutcomes.Transient;
            throw new TransientStageException(stage.Name, $"Stage {stage.Name} failed: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not (PipelineFailure or OperationCanceledException or TransientStageException))
        {
            // A stage classifies PdfPig's errors itself; anything else escaping it is a defect for this document,
            // reported (and retryable by hand) rather than redelivered forever.
            throw new PipelineFailure(FailureCodes.StageFailed, $"Stage {stage.Name} failed unexpectedly ({PdfOpening.Describe(ex)}).", ex) { Stage = stage.Name };
        }
        finally
        {
            if (!completed)
            {
                DiscardPartialOutput(context, stage.Name);
            }

            metrics.StageFinished(stage.Name, status, clock.Elapsed);
            activity?.SetTag("suite.stage.outcome", status);
            activity?.SetTag(ErrorKinds.Label, status == StageOutcomes.Timeout ? ErrorKinds.Timeout : null);
            if (!completed)
            {
                activity?.SetStatus(ActivityStatusCode.Error, status);
            }
        }
    }

    /// <summary>
    /// Runs every stage on a local file, without Redis or HTTP (tests and benchmarks), and returns the result. The
    /// document budget ends it with a <see cref="PipelineFailure"/> <c>timeout</c>, as in the worker.
    /// </summary>
    public async Task<ResultSubmission> RunLocallyAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var budget = new CancellationTokenSource(options.Value.DocumentBudget);
        using var document = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        foreach (var stage in Stages)
        {
            try
            {
                await RunStageAsync(stage, context, document.Token, cancellationToken);
            }
            catch (OperationCanceledException ex) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw BudgetExceeded(stage.Name, ex);
            }
        }

        return await AssembleStage.ReadSubmissionAsync(context, cancellationToken);
    }

    /// <summary>
    /// The permanent failure of a document whose budget ran out in <paramref name="stage"/> (or before an attempt
    /// could start, when earlier attempts, <paramref name="usedBefore"/>, had used it all).
    /// </summary>
    public PipelineFailure BudgetExceeded(string? stage, Exception? cause, TimeSpan usedBefore = default) => new(
        DeliveryErrorCodes.Timeout,
        $"The document was not finished within its budget of {options.Value.DocumentBudgetSeconds} s" +
        (usedBefore > TimeSpan.Zero ? $", of which earlier attempts used {usedBefore.TotalSeconds:0} s" : "") +
        (stage is null ? "." : $" (stopped in stage {stage}).") +
        " It may be too large or too complex; raise Worker:DocumentBudgetSeconds or split it, then retry it.",
        cause) { Stage = stage };

    private static void DiscardPartialOutput(StageContext context, string stage)
    {
        try
        {
            File.Delete(context.CheckpointPath(stage));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The whole work folder is removed at the end of the attempt anyway.
        }
    }
}

/// <summary>
/// A stage failed in a way a later attempt may not meet (it timed out, a file could not be written): the job is
/// retried with backoff rather than the document failed (Req RTY-6, TMO-3).
/// </summary>
internal sealed class TransientStageException : Exception
{
    public TransientStageException(string stage, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Stage = stage;
    }

    public TransientStageException()
    {
        Stage = "";
    }

    public TransientStageException(string message)
        : base(message)
    {
        Stage = "";
    }

    public TransientStageException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = "";
    }

    public string Stage { get; }

    /// <summary>The stage ran out of its time (its own limit or the runner's), rather than failing otherwise.</summary>
    public bool IsTimeout => InnerException is OperationCanceledException or PipelineFailure { Code: FailureCodes.StageTimeout };
}

/// <summary>Outcomes of a stage run besides the stage statuses (completed, degraded, skipped, failed): metric and span label.</summary>
internal static class StageOutcomes
{
    /// <summary>The stage ran out of its time (TMO-3, TMO-7).</summary>
    public const string Timeout = "timeout";

    /// <summary>The stage failed in a way a later attempt may not meet (disk, permissions).</summary>
    public const string Transient = "transient";

    /// <summary>The document's budget, its lease, a cancel or shutdown stopped the stage.</summary>
    public const string Cancelled = "cancelled";
}
