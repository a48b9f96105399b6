using LabelingBridge.Configuration;
using LabelingBridge.Ingest;
using LabelingBridge.Outbox;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.ServiceDefaults.Lifecycle;

namespace LabelingBridge.Exports;

/// <summary>
/// Optional (Bridge:AutoExport, off by default): polls ingest's public document list, newest first, and queues an
/// export for every completed document it has not seen before. Bounded to Bridge:AutoExportMaxPages pages a poll.
/// </summary>
internal sealed partial class AutoExportPoller(
    IngestDocumentsClient ingest,
    ExportOutbox outbox,
    ExportSignal signal,
    IOptions<BridgeOptions> bridge,
    IOptions<LabelStudioOptions> labelStudio,
    TimeProvider time,
    StartupGate startup,
    ILogger<AutoExportPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = bridge.Value;
        if (!options.AutoExport || !labelStudio.Value.Enabled)
        {
            return;
        }

        // The outbox is opened and checked by a start-up step after the server listens: nothing here touches it before
        // (nor ever, when start-up stopped at a damaged outbox: the bridge stays live and not ready, saying why).
        if (!await startup.OwnStepsDoneAsync(stoppingToken))
        {
            return;
        }

        LogEnabled(logger, options.AutoExportPollSeconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.AutoExportPollSeconds), time);
        try
        {
            do
            {
                await PollAsync(options, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PollAsync(BridgeOptions options, CancellationToken stoppingToken)
    {
        try
        {
            string? cursor = null;
            for (var page = 0; page < options.AutoExportMaxPages; page++)
            {
                var documents = await ingest.ListDocumentsAsync(options.AutoExportPageSize, cursor, stoppingToken);
                foreach (var document in documents.Items.Where(d => d.Status == DocumentStatus.Completed))
                {
                    if (await outbox.EnqueueAutoExportAsync(document.Id, stoppingToken) is { } export)
                    {
                        LogQueued(logger, export.Id, document.Id);
                        signal.Notify();
                    }
                }

                if (documents.NextCursor is null || documents.Items.Count == 0)
                {
                    break;
                }

                cursor = documents.NextCursor;
            }
        }
        catch (IngestUnavailableException ex)
        {
            LogIngestUnavailable(logger, ex.Message);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // The outbox is busy or in read-only mode: the next poll tries again (a crash here would stop the bridge).
            LogOutboxUnavailable(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auto-export could not queue exports now; next poll retries: {Error}")]
    private static partial void LogOutboxUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-export on: polling ingest's completed documents every {Seconds} s")]
    private static partial void LogEnabled(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-export queued export {ExportId} of completed document {DocumentId}")]
    private static partial void LogQueued(ILogger logger, string exportId, string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auto-export could not list ingest's documents: {Reason}")]
    private static partial void LogIngestUnavailable(ILogger logger, string reason);
}
