using Suite.Contracts;
using Suite.PipelineWorker.Ingest;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Sends a running stage's page progress to IngestService, at most one report per interval and one at a time (the
/// latest count wins), off the stage's threads: <see cref="Report"/> never blocks and a failed report is only logged,
/// so progress can neither slow nor fail a stage. Disposed when the stage ends, before its status is reported (a report
/// still on its way then is ignored by IngestService, which records progress only of a running stage).
/// </summary>
internal sealed class PageProgressReporter : IAsyncDisposable
{
    private readonly IngestClient _ingest;
    private readonly string _documentId;
    private readonly long _lease;
    private readonly string _stage;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _kick = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _gate = new();
    private (int Done, int Total) _latest;
    private int _sent;

    public PageProgressReporter(IngestClient ingest, string documentId, long lease, string stage, TimeSpan interval, ILogger logger)
    {
        _ingest = ingest;
        _documentId = documentId;
        _lease = lease;
        _stage = stage;
        _interval = interval;
        _logger = logger;
        _loop = Task.Run(SendLoopAsync);
    }

    /// <summary><paramref name="done"/> of <paramref name="total"/> pages are done (any thread; a smaller count than one already seen is ignored).</summary>
    public void Report(int done, int total)
    {
        lock (_gate)
        {
            if (done <= _latest.Done || total < 1)
            {
                return;
            }

            _latest = (Math.Min(done, total), total);
        }

        try
        {
            if (_kick.CurrentCount == 0)
            {
                _kick.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        _kick.Dispose();
    }

    private async Task SendLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            await _kick.WaitAsync(token);
            (int Done, int Total) latest;
            lock (_gate)
            {
                latest = _latest;
            }

            if (latest.Done > _sent)
            {
                try
                {
                    await _ingest.ReportPageProgressAsync(_documentId, _lease, _stage, new PageProgressReport(latest.Done, latest.Total), token);
                    _sent = latest.Done;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.ProgressNotReported(_logger, _documentId, _stage, ex.Message);
                }
            }

            await Task.Delay(_interval, token);
        }
    }
}
