using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Polly;

namespace Suite.ServiceDefaults.Resilience;

public static class ResilienceTelemetryExtensions
{
    /// <summary>The shared resilience metrics and breaker states (singletons; registered by AddServiceDefaults).</summary>
    public static IServiceCollection AddResilienceTelemetry(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ResilienceMetrics>();
        services.TryAddSingleton<CircuitBreakerStates>();
        return services;
    }

    /// <summary>
    /// Names a hand-built pipeline after its dependency and turns on Polly's telemetry for it: every retry, timeout and
    /// breaker transition is then logged and counted in the <c>Polly</c> meter
    /// (<c>resilience.polly.strategy.events{event.name, pipeline.name, pipeline.instance}</c>), like the pipelines of
    /// HttpClient resilience handlers, which have it already.
    /// </summary>
    public static TBuilder WithSuiteTelemetry<TBuilder>(this TBuilder builder, string dependency, ILoggerFactory loggerFactory, string? instance = null)
        where TBuilder : ResiliencePipelineBuilderBase
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Name = dependency;
        builder.InstanceName = instance;
        return builder.ConfigureTelemetry(loggerFactory);
    }
}
