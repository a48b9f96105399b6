using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Processes one document: claim a lease, download the upload into a private temp folder, run the remaining
/// stages (resuming from stored checkpoints), checkpoint and report each one, submit the result. Decides
/// whether the job's stream entry may be acknowledged (see <see cref="JobOutcome"/>); never throws.
/// </summary>
internal sealed class JobProcessor(
    IngestClient ingest,
    DocumentPipeline pipeline,
    IOptions<WorkerOptions> options,
    WorkerMetrics metrics,
    ILogger<JobProcessor> logger)
{
    public async Task<JobOutcome> ProcessAsync(string documentId, CancellationToken stoppingToken)
    {
        var consumer = options.Value.ConsumerName;
        if (!IsPlainDocumentId(documentId))
        {
            Log.InvalidDocumentId(logger, documentId);
            return JobOutcome.Discarded;
        }

        ClaimResponse? claim = null;
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            budget.CancelAfter(options.Value.DocumentBudget);

            claim = await ingest.ClaimAsync(documentId, consumer, budget.Token);
            if (claim is null)
            {
                Log.UnknownDocument(logger, documentId);
                return JobOutcome.Discarded;
            }

            if (DocumentStatus.IsTerminal(claim.Status))
            {
                Log.AlreadyTerminal(logger, documentId, claim.Status);
                return JobOutcome.AlreadyTerminal;
            }

            return await RunAsync(claim, budget.Token, stoppingToken);
        }
        catch (PipelineFailure failure) when (claim is not null)
        {
            return await FailAsync(claim, failure, stoppingToken);
        }
        catch (LeaseLostException ex)
        {
            Log.LeaseLost(logger, documentId, ex.Message);
            return JobOutcome.LeaseLost;
        }
        catch (DocumentFinishedException ex)
        {
            Log.AlreadyTerminal(logger, documentId, ex.Code);
            return JobOutcome.AlreadyTerminal;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Log.Abandoned(logger, documentId);
            return JobOutcome.Cancelled;
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            Log.Transient(logger, documentId, ex.GetType().Name, ex.Message);
            return JobOutcome.Transient;
        }
        catch (Exception ex)
        {
            // Not a property of the document and not a known transient error (e.g. a contract mismatch with
            // IngestService): keep the job pending so nothing is lost, and say so loudly.
            Log.Unexpected(logger, ex, documentId);
            return JobOutcome.Transient;
        }
    }

    private async Task<JobOutcome> RunAsync(ClaimResponse claim, CancellationToken documentToken, CancellationToken stoppingToken)
    {
        var documentId = claim.DocumentId;
        var lease = claim.LeaseToken;
        var workDirectory = WorkDirectoryFor(options.Value.ConsumerName, documentId);
        try
        {
            DeleteDirectory(workDirectory);
            var context = new StageContext(documentId, claim.FileName, workDirectory);
            await ingest.DownloadContentAsync(documentId, lease, context.ContentPath, claim.SizeBytes, documentToken);

            // Resume: a stage with a stored, usable checkpoint is skipped; once one stage runs, all later ones run.
            var resuming = true;
            foreach (var stage in pipeline.Stages)
            {
                if (resuming && claim.CheckpointedStages.Contains(stage.Name)
                    && await ingest.GetCheckpointAsync(documentId, lease, stage.Name, context.CheckpointPath(stage.Name), documentToken)
                    && await stage.IsCheckpointUsableAsync(context, documentToken))
                {
                    Log.StageResumed(logger, documentId, stage.Name);
                    continue;
                }

                resuming = false;
                await RunStageAsync(stage, context, lease, documentToken, stoppingToken);
            }

            var submission = await AssembleStage.ReadSubmissionAsync(context, documentToken);
            await ingest.SubmitResultAsync(documentId, lease, submission, documentToken);
            Log.Completed(logger, documentId, lease);
            return JobOutcome.Completed;
        }
        finally
        {
            DeleteDirectory(workDirectory);
        }
    }

    private async Task RunStageAsync(IPipelineStage stage, StageContext context, long lease, CancellationToken documentToken, CancellationToken stoppingToken)
    {
        var documentId = context.DocumentId;
        await ingest.ReportStageAsync(documentId, lease, stage.Name, new StageReport(StageStatus.Running), documentToken);
        var result = await pipeline.RunStageAsync(stage, context, documentToken, stoppingToken);

        await ingest.PutCheckpointAsync(documentId, lease, stage.Name, context.CheckpointPath(stage.Name), documentToken);
        await ingest.ReportStageAsync(documentId, lease, stage.Name, new StageReport(result.Status, result.Detail), documentToken);
        Log.StageDone(logger, documentId, stage.Name, result.Status);
    }

    private async Task<JobOutcome> FailAsync(ClaimResponse claim, PipelineFailure failure, CancellationToken stoppingToken)
    {
        var documentId = claim.DocumentId;
        try
        {
            if (failure.Stage is not null)
            {
                await ingest.ReportStageAsync(documentId, claim.LeaseToken, failure.Stage, new StageReport(StageStatus.Failed, failure.Message), stoppingToken);
            }

            await ingest.ReportFailureAsync(documentId, claim.LeaseToken, new FailureReport(failure.Code, failure.Message), stoppingToken);
            Log.Failed(logger, documentId, failure.Code, failure.Message);
            metrics.DocumentFailed(failure.Code);
            return JobOutcome.Failed;
        }
        catch (LeaseLostException ex)
        {
            Log.LeaseLost(logger, documentId, ex.Message);
            return JobOutcome.LeaseLost;
        }
        catch (DocumentFinishedException ex)
        {
            Log.AlreadyTerminal(logger, documentId, ex.Code);
            return JobOutcome.AlreadyTerminal;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return JobOutcome.Cancelled;
        }
        catch (Exception ex) when (IsTransient(ex) || ex is IngestRejectedException)
        {
            // The failure is not recorded yet: keep the job so the next delivery reports it again.
            Log.Transient(logger, documentId, ex.GetType().Name, ex.Message);
            return JobOutcome.Transient;
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

    /// <summary>Path.GetTempPath()/suite-worker/&lt;consumer&gt;/&lt;documentId&gt;.</summary>
    internal static string WorkDirectoryFor(string consumer, string documentId) =>
        IsPlainDocumentId(documentId)
            ? Path.Combine(Path.GetTempPath(), "suite-worker", consumer, documentId)
            : throw new ArgumentException($"Document id '{documentId}' is not a plain name.", nameof(documentId));

    /// <summary>Ids are used in URLs and folder names: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    internal static bool IsPlainDocumentId(string documentId) =>
        documentId.Length is > 0 and <= 200
        && !documentId.StartsWith('.')
        && documentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CleanupFailed(logger, path, ex.Message);
        }
    }
}
