using System.Collections.Concurrent;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Ingest;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// Runs one piece of per-page work in parallel (bounded) under a stage clock. A page whose engine fails or whose
/// artifact is refused is recorded with its reason instead of failing the stage; when the clock runs out the pages not
/// reached are listed. Stages use the outcome to degrade page by page (DEG-5, DEG-6) rather than fail the document.
/// <c>pagesDone</c> hears how many pages have finished (page progress events).
/// </summary>
internal static class PageFanOut
{
    public static async Task<PageFanOutResult<TResult>> RunAsync<TPage, TResult>(
        IReadOnlyList<TPage> pages, Func<TPage, int> pageNumber, int maxParallelism, StageClock clock,
        Func<TPage, CancellationToken, Task<TResult?>> work, Action<int>? pagesDone = null)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(pages);
        ArgumentNullException.ThrowIfNull(pageNumber);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(work);
        var done = new ConcurrentBag<(int Page, TResult Value)>();
        var failures = new ConcurrentBag<(int Page, string Reason)>();
        var timedOut = false;
        var finished = 0;
        try
        {
            await Parallel.ForEachAsync(pages, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism, CancellationToken = clock.Token }, async (page, token) =>
            {
                try
                {
                    if (await work(page, token) is { } value)
                    {
                        done.Add((pageNumber(page), value));
                    }
                }
                catch (EngineException ex)
                {
                    failures.Add((pageNumber(page), ex.Message));
                }
                catch (ArtifactRejectedException ex)
                {
                    failures.Add((pageNumber(page), ex.Message));
                }

                pagesDone?.Invoke(Interlocked.Increment(ref finished));
            });
        }
        catch (OperationCanceledException) when (clock.Expired)
        {
            timedOut = true;
        }

        var failed = failures.OrderBy(f => f.Page).ToList();
        var notReached = timedOut
            ? pages.Select(pageNumber).Except(done.Select(d => d.Page)).Except(failed.Select(f => f.Page)).Order().ToList()
            : [];
        return new PageFanOutResult<TResult>([.. done.OrderBy(d => d.Page).Select(d => d.Value)], failed, timedOut, notReached);
    }
}

/// <summary>What a <see cref="PageFanOut"/> produced: results in page order, failed pages with reasons, pages not reached.</summary>
internal sealed record PageFanOutResult<TResult>(
    IReadOnlyList<TResult> Done, IReadOnlyList<(int Page, string Reason)> Failed, bool TimedOut, IReadOnlyList<int> NotReached);
