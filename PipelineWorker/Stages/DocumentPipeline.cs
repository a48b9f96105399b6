using System.Diagnostics;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Jobs;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// The stages in order, and how one stage is run: on a thread-pool thread (PdfPig is CPU-bound and must not
/// hold up the consumer loop), under the stage timeout, with its exceptions classified.
/// </summary>
internal sealed class DocumentPipeline(IEnumerable<IPipelineStage> stages, IOptions<WorkerOptions> options, WorkerMetrics metrics)
{
    public IReadOnlyList<IPipelineStage> Stages { get; } = [.. stages];

    /// <summary>
    /// Runs one stage. Throws <see cref="PipelineFailure"/> for a permanent failure (including <c>stage_timeout</c>
    /// and <c>document_budget_exceeded</c>), <see cref="OperationCanceledException"/> when <paramref name="stoppingToken"/>
    /// fired, and lets I/O errors through as transient.
    /// </summary>
    public async Task<StageResult> RunStageAsync(
        IPipelineStage stage,
        StageContext context,
        CancellationToken documentToken,
        CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(stage);
        var timeout = options.Value.StageTimeout;
        using var stageCts = CancellationTokenSource.CreateLinkedTokenSource(documentToken, stoppingToken);
        stageCts.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        var status = StageStatus.Failed;
        try
        {
            // WaitAsync: a stage stuck inside one PdfPig call still releases the job when its time is up.
            var result = await Task.Run(() => stage.RunAsync(context, stageCts.Token), stageCts.Token).WaitAsync(stageCts.Token);
            status = result.Status;
            return result;
        }
        catch (PipelineFailure failure) when (failure.Stage is null)
        {
            failure.Stage = stage.Name;
            throw;
        }
        catch (OperationCanceledException ex) when (!stoppingToken.IsCancellationRequested && documentToken.IsCancellationRequested)
        {
            throw new PipelineFailure(
                FailureCodes.DocumentBudgetExceeded,
                $"The document was not finished within its budget of {options.Value.DocumentBudgetSeconds} s (stopped in stage {stage.Name}).",
                ex) { Stage = stage.Name };
        }
        catch (OperationCanceledException ex) when (!stoppingToken.IsCancellationRequested && stageCts.IsCancellationRequested)
        {
            throw new PipelineFailure(
                FailureCodes.StageTimeout,
                $"Stage {stage.Name} did not finish within {timeout.TotalSeconds:0} s. The document may be too large or too complex.",
                ex) { Stage = stage.Name };
        }
        catch (Exception ex) when (ex is not (PipelineFailure or OperationCanceledException or IOException or UnauthorizedAccessException))
        {
            // A stage classifies PdfPig's errors itself; anything else escaping it is a defect for this document,
            // reported (and retryable by hand) rather than redelivered forever.
            throw new PipelineFailure(FailureCodes.StageFailed, $"Stage {stage.Name} failed unexpectedly ({PdfOpening.Describe(ex)}).", ex) { Stage = stage.Name };
        }
        finally
        {
            metrics.StageFinished(stage.Name, status, clock.Elapsed);
        }
    }

    /// <summary>
    /// Runs every stage on a local file, without Redis or HTTP (tests and benchmarks), and returns the result.
    /// </summary>
    public async Task<ResultSubmission> RunLocallyAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.Value.DocumentBudget);
        foreach (var stage in Stages)
        {
            await RunStageAsync(stage, context, budget.Token, cancellationToken);
        }

        return await AssembleStage.ReadSubmissionAsync(context, cancellationToken);
    }
}
