using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Runs the start-up steps in the background, so that no slow step (a large database's integrity check, a storage
/// root that is not writable yet) keeps the web server from listening: hosted services' StartAsync all run before
/// Kestrel starts. The service's own steps run one after the other in registration order; steps that wait for a
/// dependency run beside them. A failed attempt is retried with exponential backoff (Polly, each attempt logged and
/// shown by readiness) until it succeeds, throws <see cref="StartupFailedException"/>, or the service stops.
/// </summary>
internal sealed partial class StartupRunner(
    StartupGate gate,
    IEnumerable<IStartupStep> steps,
    IOptions<StartupOptions> options,
    TimeProvider time,
    ILogger<StartupRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Never hold up the host's own start, even for the synchronous part of a step.
        await Task.Yield();

        // The host validates every option registered with ValidateOnStart before it starts any hosted service, so by
        // now they are valid (an invalid one stopped the process with a message naming its key).
        LogOptionsValidated();
        var started = time.GetTimestamp();
        var all = steps.ToList();
        // On the thread pool: a dependency's client may block while it is created (Redis's connects synchronously).
        var beside = all.Where(s => s.WaitsForDependency).Select(s => Task.Run(() => RunAsync(s, stoppingToken), CancellationToken.None)).ToList();
        foreach (var step in all.Where(s => !s.WaitsForDependency))
        {
            if (!await RunAsync(step, stoppingToken))
            {
                return;
            }
        }

        if ((await Task.WhenAll(beside)).All(done => done))
        {
            LogReady(time.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>Runs one step to its end; false when it failed for good or the service is stopping.</summary>
    private async Task<bool> RunAsync(IStartupStep step, CancellationToken stoppingToken)
    {
        gate.Begin(step);
        LogStepStarted(step.Name);
        var started = time.GetTimestamp();
        try
        {
            await Retry(step).ExecuteAsync(async ct => await step.RunAsync(ct), stoppingToken);
            var took = time.GetElapsedTime(started);
            gate.Complete(step, took);
            LogStepDone(step.Name, took.TotalMilliseconds);
            return true;
        }
        catch (StartupFailedException ex)
        {
            gate.Fail(step, ex.Message);
            LogStepFailed(step.Name, ex.Message);
            return false;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStepAbandoned(step.Name);
            return false;
        }
    }

    private ResiliencePipeline Retry(IStartupStep step)
    {
        var settings = options.Value;
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Until it works: a step that cannot succeed yet (a read-only mount, Redis down) keeps the service not
                // ready and saying why, and start-up goes on by itself once the cause is gone.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(settings.RetryDelayMs),
                MaxDelay = TimeSpan.FromSeconds(settings.MaxRetryDelaySeconds),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    null or StartupFailedException => false,
                    OperationCanceledException when args.Context.CancellationToken.IsCancellationRequested => false,
                    _ => true,
                }),
                OnRetry = args =>
                {
                    var error = args.Outcome.Exception?.Message ?? "no error";
                    gate.AttemptFailed(step, args.AttemptNumber + 1, error, args.RetryDelay);
                    LogAttemptFailed(step.Name, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, error);
                    return default;
                },
            })
            .Build();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up: options validated")]
    private partial void LogOptionsValidated();

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up step {Step}: started")]
    private partial void LogStepStarted(string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Start-up step {Step}: attempt {Attempt} failed, next attempt in {DelayMs:F0} ms: {Error}")]
    private partial void LogAttemptFailed(string step, int attempt, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up step {Step}: done in {ElapsedMs:F0} ms")]
    private partial void LogStepDone(string step, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Start-up step {Step}: failed; the service stays live but not ready: {Reason}")]
    private partial void LogStepFailed(string step, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up step {Step}: abandoned, the service is stopping")]
    private partial void LogStepAbandoned(string step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up: ready after {ElapsedMs:F0} ms")]
    private partial void LogReady(double elapsedMs);
}
