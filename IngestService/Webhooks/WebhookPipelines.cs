using System.Collections.Concurrent;
using System.Net;
using IngestService.Sources;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Suite.ServiceDefaults.Resilience;

namespace IngestService.Webhooks;

/// <summary>
/// One Polly pipeline per destination host (Req RTY-1..3, CB-3): retries inside a round (exponential with jitter,
/// Retry-After honoured) around a circuit breaker of that host around each attempt's timeout. A receiver that keeps
/// failing opens only its own breaker: its deliveries wait without a request while other destinations flow. Polly's
/// telemetry names each pipeline <c>webhook</c> with the host as its instance (logged and counted, Req CB-4). At most
/// Webhooks:MaxDestinations pipelines are kept; past it the closed ones are dropped (an open one keeps its state).
/// </summary>
internal sealed partial class WebhookPipelines(IOptions<WebhookOptions> options, ILoggerFactory loggerFactory, ILogger<WebhookPipelines> logger)
{
    public const string Dependency = "webhook";

    // Bounded by Webhooks:MaxDestinations (see Trim).
    private readonly ConcurrentDictionary<string, Entry> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    public int Count => _pipelines.Count;

    /// <summary>The pipeline of <paramref name="host"/> (made on first use).</summary>
    public ResiliencePipeline<HttpResponseMessage> For(string host)
    {
        if (_pipelines.TryGetValue(host, out var entry))
        {
            return entry.Pipeline;
        }

        if (_pipelines.Count >= options.Value.MaxDestinations)
        {
            Trim();
        }

        return _pipelines.GetOrAdd(host, Build).Pipeline;
    }

    /// <summary>Whether an answer (or its absence) is worth another attempt: no answer, 408, 429 or 5xx; never a refused address.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        UrlSourceResilience.RefusalIn(outcome.Exception) is null
        && outcome.Exception is not BrokenCircuitException
        && HttpClientResiliencePredicates.IsTransient(outcome);

    private void Trim()
    {
        foreach (var (host, entry) in _pipelines)
        {
            if (entry.State.CircuitState == CircuitState.Closed)
            {
                _pipelines.TryRemove(host, out _);
            }
        }
    }

    private Entry Build(string host)
    {
        var o = options.Value;
        var state = new CircuitBreakerStateProvider();
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>().WithSuiteTelemetry(Dependency, loggerFactory, host);
        if (o.RetriesPerRound > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = o.RetriesPerRound,
                Delay = o.RetryDelay,
                MaxDelay = TimeSpan.FromSeconds(10),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            });
        }

        builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = o.BreakerFailureRatio,
            MinimumThroughput = o.BreakerMinimumThroughput,
            SamplingDuration = TimeSpan.FromSeconds(o.BreakerSamplingSeconds),
            BreakDuration = TimeSpan.FromSeconds(o.BreakerBreakSeconds),
            StateProvider = state,
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            OnOpened = args =>
            {
                LogOpened(host, args.BreakDuration.TotalSeconds);
                return default;
            },
            OnClosed = _ =>
            {
                LogClosed(host);
                return default;
            },
        });
        builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = o.AttemptTimeout });
        return new Entry(builder.Build(), state);
    }

    private sealed record Entry(ResiliencePipeline<HttpResponseMessage> Pipeline, CircuitBreakerStateProvider State);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook circuit breaker for {Host} OPENED for {BreakSeconds} s: its deliveries wait without requests")]
    private partial void LogOpened(string host, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook circuit breaker for {Host} CLOSED: its deliveries flow again")]
    private partial void LogClosed(string host);

    /// <summary>Kept for the readiness detail: is some destination's breaker open.</summary>
    public IReadOnlyList<string> OpenDestinations() =>
        [.. _pipelines.Where(p => p.Value.State.CircuitState is CircuitState.Open or CircuitState.Isolated).Select(p => p.Key).Order(StringComparer.Ordinal)];

    internal static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;
}
