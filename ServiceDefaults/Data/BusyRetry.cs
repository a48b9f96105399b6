using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Retries a whole database operation that failed with SQLITE_BUSY or SQLITE_LOCKED (Req TMO-2): Polly's retry with
/// exponential backoff and jitter, a few attempts, and only while the operation's deadline (its command timeout) has
/// time left, so the wait stays bounded however the lock is held. SQLite's busy_timeout and Microsoft.Data.Sqlite's own
/// wait have already waited inside each attempt; this retry restarts a transaction that lost to another writer.
/// Each retry is counted in <c>suite.retries{dependency="&lt;db&gt;-db", reason="busy"}</c> and Polly's telemetry.
/// </summary>
internal sealed partial class BusyRetry
{
    private static readonly ResiliencePropertyKey<long> DeadlineKey = new("suite.db.deadline");

    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _time;

    public BusyRetry(string dependency, int attempts, TimeProvider time, ILoggerFactory loggerFactory, ResilienceMetrics? resilienceMetrics)
    {
        _time = time;
        var logger = loggerFactory.CreateLogger<BusyRetry>();
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (attempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && SqliteErrors.IsBusy(ex) && HasTimeLeft(args.Context)),
                MaxRetryAttempts = attempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(25),
                MaxDelay = TimeSpan.FromMilliseconds(500),
                OnRetry = args =>
                {
                    resilienceMetrics?.Retry(dependency, "busy");
                    LogBusy(logger, dependency, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, (args.Outcome.Exception as SqliteException)?.SqliteErrorCode ?? 0);
                    return default;
                },
            });
        }

        _pipeline = builder.WithSuiteTelemetry(dependency, loggerFactory).Build();
    }

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, long deadline, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(DeadlineKey, deadline);
        try
        {
            return await _pipeline.ExecuteAsync(static async (ctx, run) => await run(ctx.CancellationToken), context, attempt);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private bool HasTimeLeft(ResilienceContext context) =>
        !context.Properties.TryGetValue(DeadlineKey, out var deadline) || _time.GetTimestamp() < deadline;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dependency} busy (SQLite error {Code}); attempt {Attempt} in {DelayMs} ms")]
    private static partial void LogBusy(ILogger logger, string dependency, int attempt, double delayMs, int code);
}
