using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Suite.PipelineWorker.Pdf;
using Suite.ServiceDefaults.Resilience;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// One circuit breaker per subprocess engine (renderer, ocr, text fallback): when an engine keeps timing out or crashing, the
/// stages stop calling it for a while and fall back at once (CB-2, CB-3) instead of paying a timeout per page.
/// A missing executable does not count: that is known from the probe and handled before any call. The pipelines
/// have Polly's telemetry (pipeline.name = the engine) and report their state to <see cref="CircuitBreakerStates"/>.
/// </summary>
internal sealed class EngineBreakers
{
    public const string Renderer = "renderer";
    public const string Ocr = "ocr";

    /// <summary>pdftotext and pdfinfo, reading what PdfPig cannot: one dependency, poppler's text side.</summary>
    public const string TextFallback = "text-fallback";

    // Bounded by construction: one pipeline per engine (renderer, ocr, text fallback), built once.
    private readonly Dictionary<string, ResiliencePipeline> _pipelines;

    public EngineBreakers(IOptions<EngineOptions> options, CircuitBreakerStates breakers, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(breakers);
        var o = options.Value;
        _pipelines = new[] { Renderer, Ocr, TextFallback }.ToDictionary(name => name, name =>
        {
            breakers.Register(name);
            return new ResiliencePipelineBuilder().WithSuiteTelemetry(name, loggerFactory).AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(o.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(o.BreakerBreakSeconds),
                ShouldHandle = new PredicateBuilder().Handle<EngineException>(e => e.Kind is EngineFailureKind.Timeout or EngineFailureKind.Failed),
                OnOpened = args =>
                {
                    breakers.Opened(name, args.BreakDuration);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    breakers.HalfOpened(name);
                    return default;
                },
                OnClosed = _ =>
                {
                    breakers.Closed(name);
                    return default;
                },
            }).Build();
        }, StringComparer.Ordinal);
    }

    /// <summary>Runs one engine call through the engine's breaker; an open breaker is an <see cref="EngineException"/> of kind CircuitOpen.</summary>
    public async Task<T> ExecuteAsync<T>(string engine, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipelines[engine].ExecuteAsync(async ct => await call(ct), cancellationToken);
        }
        catch (BrokenCircuitException ex)
        {
            throw new EngineException(EngineFailureKind.CircuitOpen, $"the {engine} engine failed repeatedly; its circuit breaker is open and calls are skipped for now", ex);
        }
    }
}
