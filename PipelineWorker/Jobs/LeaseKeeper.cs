using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Ingest;

namespace Suite.PipelineWorker.Jobs;

/// <summary>Why a <see cref="LeaseKeeper"/> cancelled the job it watches.</summary>
internal enum LeaseEnd
{
    /// <summary>Still held.</summary>
    None,

    /// <summary>Another claim took the document over (the lease token moved on): abandon without acknowledging.</summary>
    Lost,

    /// <summary>The document ended meanwhile (cancelled by a DELETE): stop, and acknowledge the job.</summary>
    Finished,
}

/// <summary>
/// Keeps a running job's lease alive (Req JOB-6): every <see cref="WorkerOptions.HeartbeatInterval"/> it first renews
/// the lease in IngestService (which answers the document's status) and then the stream entry in Redis (XCLAIM
/// JUSTID on our own entry, resetting its idle time so no other worker reclaims it). Ingest first, Redis second:
/// the entry's idle clock then always starts after the lease's, so by the time another worker may reclaim the entry
/// the lease has expired too. It cancels <see cref="Token"/> promptly when the lease is lost or the document was
/// cancelled (Req JOB-5); failures to reach either side are logged and tried again at the next beat.
/// </summary>
internal sealed partial class LeaseKeeper : IAsyncDisposable
{
    private readonly IngestClient _ingest;
    private readonly JobStore _jobs;
    private readonly string _consumer;
    private readonly JobMessage _job;
    private readonly string _documentId;
    private readonly long _lease;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile LeaseEnd _end;

    public LeaseKeeper(IngestClient ingest, JobStore jobs, string consumer, JobMessage job, ClaimResponse claim, TimeSpan interval, ILogger logger)
    {
        _ingest = ingest;
        _jobs = jobs;
        _consumer = consumer;
        _job = job;
        _documentId = claim.DocumentId;
        _lease = claim.LeaseToken;
        _interval = interval;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Cancelled when the lease is lost or the document finished (see <see cref="End"/>).</summary>
    public CancellationToken Token => _cancel.Token;

    public LeaseEnd End => _end;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
        _cancel.Dispose();
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            if (!await RenewIngestAsync())
            {
                return;
            }

            await RenewEntryAsync();
        }
    }

    /// <summary>False when the job must stop (lease lost or document finished).</summary>
    private async Task<bool> RenewIngestAsync()
    {
        try
        {
            var status = await _ingest.RenewLeaseAsync(_documentId, _lease, _stop.Token);
            if (DocumentStatus.IsTerminal(status.Status))
            {
                LogFinished(_documentId, status.Status);
                return Stop(LeaseEnd.Finished);
            }

            return true;
        }
        catch (LeaseLostException ex)
        {
            LogLost(_documentId, _lease, ex.Message);
            return Stop(LeaseEnd.Lost);
        }
        catch (DocumentFinishedException ex)
        {
            LogFinished(_documentId, ex.Code);
            return Stop(LeaseEnd.Finished);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            // IngestService unreachable: keep working; its writes will tell, and the lease is checked again next beat.
            LogRenewFailed(_documentId, "IngestService", ex.Message);
            return true;
        }
    }

    private async Task RenewEntryAsync()
    {
        try
        {
            if (!await _jobs.RenewAsync(_consumer, _job))
            {
                // Reclaimed or acknowledged meanwhile; IngestService's lease decides who owns the document.
                LogEntryNotOurs(_job.EntryId, _documentId);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogRenewFailed(_documentId, "Redis", ex.Message);
        }
    }

    private bool Stop(LeaseEnd end)
    {
        _end = end;
        _cancel.Cancel();
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: lease {Lease} lost ({Reason}); stopping the job without acknowledging it")]
    private partial void LogLost(string documentId, long lease, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} is {Status} now; stopping the job")]
    private partial void LogFinished(string documentId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: lease renewal with {Dependency} failed ({Error}); trying again at the next beat")]
    private partial void LogRenewFailed(string documentId, string dependency, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job entry {EntryId} of document {DocumentId} is no longer pending for this worker")]
    private partial void LogEntryNotOurs(string entryId, string documentId);
}
