using LabelingBridge.Configuration;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace LabelingBridge.LabelStudio;

/// <summary>
/// Runs one Label Studio operation (an idempotent unit: "make sure these tasks exist", "list page 3") under a total
/// budget with classified retries: exponential backoff with jitter and a cap, never before a Retry-After, and never
/// a wait that would end past the budget (a Retry-After too long for the budget ends the operation instead, and the
/// outbox schedules the export after it). Open breaker and rejected credentials are not retried here.
/// </summary>
public sealed partial class LabelStudioOperations
{
    private static readonly ResiliencePropertyKey<DateTimeOffset> DeadlineKey = new("suite.deadline");
    private static readonly ResiliencePropertyKey<TimeSpan> DelayKey = new("suite.delay");
    private static readonly ResiliencePropertyKey<string> OperationKey = new("suite.operation");
    private static readonly ResiliencePropertyKey<bool> SentKey = new("suite.sent");

    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _time;
    private readonly TimeSpan _total;
    private readonly RetryBackoff _backoff;
    private readonly BridgeMetrics _metrics;
    private readonly ILogger<LabelStudioOperations> _logger;

    public LabelStudioOperations(IOptions<LabelStudioOptions> options, TimeProvider time, BridgeMetrics metrics, ILogger<LabelStudioOperations> logger, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _total = o.Timeouts.Total;
        _backoff = new RetryBackoff(TimeSpan.FromMilliseconds(o.Retry.BaseDelayMilliseconds), TimeSpan.FromSeconds(o.Retry.MaxDelaySeconds));
        // Polly's telemetry on: every retry and the total timeout are in the Polly meter (pipeline.name label-studio-operation).
        var builder = new ResiliencePipelineBuilder { TimeProvider = time }
            .WithSuiteTelemetry("label-studio-operation", loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance)
            .AddTimeout(_total);
        if (o.Retry.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = o.Retry.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.AttemptNumber, args.Context)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Context.Properties.GetValue(DelayKey, TimeSpan.Zero)),
                OnRetry = args =>
                {
                    var error = LabelStudioError.FromException(args.Outcome.Exception!)!;
                    var operation = args.Context.Properties.GetValue(OperationKey, "unknown");
                    _metrics.Retry(operation, error.Code);
                    LogRetry(_logger, operation, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, error.Code, ErrorKinds.Of(error.Code), error.Message);
                    return default;
                },
            });
        }

        _pipeline = builder.Build();
    }

    public TimeSpan TotalBudget => _total;

    public async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(DeadlineKey, _time.GetUtcNow() + _total);
        context.Properties.Set(OperationKey, operation);
        try
        {
            return await _pipeline.ExecuteAsync(async ctx => await action(ctx.CancellationToken), context);
        }
        catch (LabelStudioException ex) when (ex.Error.NotSent && context.Properties.GetValue(SentKey, false))
        {
            // Ended by the breaker or the Retry-After gate after earlier attempts did reach Label Studio: an attempt.
            throw new LabelStudioException(ex.Error with { NotSent = false }, ex);
        }
        catch (TimeoutRejectedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.LabelStudioError(LabelStudioErrorCodes.Timeout);
            throw new LabelStudioException(new LabelStudioError(LabelStudioErrorCodes.Timeout, true,
                $"Label Studio operation '{operation}' did not finish within its total budget of {_total.TotalSeconds:0.###} s."), ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task RunAsync(string operation, Func<CancellationToken, Task> action, CancellationToken cancellationToken) =>
        RunAsync(operation, async ct =>
        {
            await action(ct);
            return true;
        }, cancellationToken);

    private bool ShouldRetry(Exception? exception, int attemptNumber, ResilienceContext context)
    {
        var failure = exception is null ? null : LabelStudioError.FromException(exception);
        if (failure is { NotSent: false })
        {
            context.Properties.Set(SentKey, true);
        }

        if (failure is not { Retryable: true } error)
        {
            return false;
        }

        var delay = _backoff.DelayFor(attemptNumber + 1, error.RetryAfter);
        var deadline = context.Properties.GetValue(DeadlineKey, DateTimeOffset.MaxValue);
        if (_time.GetUtcNow() + delay >= deadline)
        {
            // Waiting would end past the budget: give up now rather than wait pointlessly.
            return false;
        }

        context.Properties.Set(DelayKey, delay);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Label Studio operation {Operation}: retry {Retry} in {DelayMs:0} ms after {ErrorCode} ({ErrorKind}): {Reason}")]
    private static partial void LogRetry(ILogger logger, string operation, int retry, double delayMs, string errorCode, string errorKind, string reason);
}
