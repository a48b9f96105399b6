using LabelingBridge.Configuration;
using LabelingBridge.Exports;
using LabelingBridge.LabelStudio;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Resilience;

namespace LabelingBridge.Annotations;

/// <summary>
/// Label Studio sends each webhook at most once, so every Bridge:ReconcileIntervalSeconds the project's tasks are
/// read page by page (until Label Studio's 404 past the last page) and their annotations stored idempotently. Skipped
/// while the credentials are rejected, the breaker is open or a Retry-After runs.
/// </summary>
internal sealed partial class AnnotationReconciler(
    LabelStudioApi api,
    LabelStudioOperations operations,
    ProjectProvisioner provisioner,
    AnnotationStore store,
    CredentialState credentials,
    CircuitBreakerStates breakers,
    RetryAfterGate gate,
    BridgeMetrics metrics,
    IOptions<BridgeOptions> bridge,
    IOptions<LabelStudioOptions> labelStudio,
    TimeProvider time,
    StartupGate startup,
    ILogger<AnnotationReconciler> logger) : BackgroundService
{
    private const int PageSize = 100;

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

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(bridge.Value.ReconcileIntervalSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await ReconcileAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (credentials.IsRejected || gate.Remaining() is not null || breakers.OpenUntil(LabelStudioClientExtensions.IsLabelStudio) is not null)
        {
            return;
        }

        if (await provisioner.KnownProjectIdAsync(cancellationToken) is not { } projectId)
        {
            return;
        }

        var stored = 0;
        try
        {
            for (var page = 1; page <= 100_000; page++)
            {
                var tasks = await operations.RunAsync("reconcile_tasks", ct => api.ListTasksAsync(projectId, page, PageSize, withAnnotations: true, null, ct), cancellationToken);
                if (tasks?.Tasks is not { Count: > 0 } found)
                {
                    break;
                }

                foreach (var task in found)
                {
                    stored += await ReconcileTaskAsync(task, projectId, cancellationToken);
                }
            }
        }
        catch (LabelStudioException ex)
        {
            LogFailed(logger, ex.Error.Code, ex.Error.Message);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // The outbox is busy or in read-only mode: the next round catches up (a crash here would stop the bridge).
            LogOutboxUnavailable(logger, ex.Message);
        }

        if (stored > 0)
        {
            LogCaughtUp(logger, stored, projectId);
        }
    }

    private async Task<int> ReconcileTaskAsync(LsTask task, int projectId, CancellationToken cancellationToken)
    {
        if (task.DocumentId is null || task.PageNo is null)
        {
            return 0;
        }

        var stored = 0;
        var seen = new List<long>();
        foreach (var annotation in task.Annotations ?? [])
        {
            seen.Add(annotation.Id);
            var record = AnnotationMapping.ToStored(annotation, task, projectId, AnnotationSources.Reconciliation, time.GetUtcNow());
            if (record is not null && await store.UpsertAsync(record, cancellationToken) != UpsertOutcome.Unchanged)
            {
                metrics.AnnotationStored(AnnotationSources.Reconciliation);
                stored++;
            }
        }

        await store.DeleteMissingAsync(task.Id, seen, cancellationToken);
        return stored;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Annotation reconciliation could not store annotations now; the next round retries: {Error}")]
    private static partial void LogOutboxUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciliation stored {Count} annotations of project {ProjectId} that no webhook had delivered")]
    private static partial void LogCaughtUp(ILogger logger, int count, int projectId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation stopped with {ErrorCode}: {Reason}; it runs again next interval")]
    private static partial void LogFailed(ILogger logger, string errorCode, string reason);
}
