using LabelingBridge.Configuration;
using LabelingBridge.LabelStudio;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Resilience;

namespace Microsoft.Extensions.Hosting;

public static class LabelStudioClientExtensions
{
    /// <summary>
    /// The Label Studio client: options validated at start-up; handlers, outermost first: Retry-After gate, circuit
    /// breaker per Label Studio instance (scheme+host+port), bulkhead, attempt timeout, credentials; a connect
    /// timeout on the socket. Plus the credential probe and the readiness check.
    /// </summary>
    public static TBuilder AddLabelStudioClient<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<LabelStudioOptions>().BindConfiguration(LabelStudioOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LabelStudioOptions>, LabelStudioOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BridgeMetrics>();
        services.AddResilienceTelemetry();
        services.TryAddSingleton<CredentialState>();
        services.TryAddSingleton<RetryAfterGate>();
        services.TryAddSingleton<AccessTokenProvider>();
        services.TryAddSingleton<LabelStudioOperations>();
        services.AddTransient<RetryAfterGateHandler>();
        services.AddTransient<LabelStudioAuthHandler>();

        services.AddHttpClient(AccessTokenProvider.TokenClientName, ConfigureClient).ConfigurePrimaryHttpMessageHandler(CreateSocketsHandler);

        var client = services.AddHttpClient<LabelStudioApi>(LabelStudioApi.ClientName, ConfigureClient);
        client.ConfigurePrimaryHttpMessageHandler(CreateSocketsHandler);
        client.AddHttpMessageHandler<RetryAfterGateHandler>();
        // A pipeline (and breaker) per authority: bounded by construction, every request is relative to LabelStudio:Url.
        client.AddResilienceHandler("label-studio", ConfigurePipeline).SelectPipelineByAuthority();
        client.AddHttpMessageHandler<LabelStudioAuthHandler>();

        services.AddHostedService<CredentialProbe>();
        services.AddHealthChecks().AddCheck<LabelStudioHealthCheck>("label-studio", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return builder;
    }

    private static void ConfigureClient(IServiceProvider services, HttpClient http)
    {
        var options = services.GetRequiredService<IOptions<LabelStudioOptions>>().Value;
        // An invalid URL is reported by the options validation at start-up, not here.
        if (options.Url is { IsAbsoluteUri: true } url)
        {
            http.BaseAddress = new Uri(url.ToString().TrimEnd('/') + "/");
        }

        // The resilience pipeline owns every timeout; HttpClient's own 100 s would race it.
        http.Timeout = Timeout.InfiniteTimeSpan;
    }

    private static SocketsHttpHandler CreateSocketsHandler(IServiceProvider services) => new()
    {
        ConnectTimeout = services.GetRequiredService<IOptions<LabelStudioOptions>>().Value.Timeouts.Connect,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    };

    private static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var services = context.ServiceProvider;
        var options = services.GetRequiredService<IOptions<LabelStudioOptions>>().Value;
        var breakers = services.GetRequiredService<CircuitBreakerStates>();
        var time = services.GetRequiredService<TimeProvider>();
        var instance = string.IsNullOrEmpty(context.InstanceName) ? (options.Url is { IsAbsoluteUri: true } url ? url.GetLeftPart(UriPartial.Authority) : null) : context.InstanceName;
        var dependency = DependencyName(instance);
        breakers.Register(dependency);
        pipeline.TimeProvider = time;

        pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            FailureRatio = options.Breaker.FailureRatio,
            MinimumThroughput = options.Breaker.MinimumThroughput,
            SamplingDuration = TimeSpan.FromSeconds(options.Breaker.SamplingDurationSeconds),
            BreakDuration = TimeSpan.FromSeconds(options.Breaker.BreakDurationSeconds),
            ShouldHandle = args => ValueTask.FromResult(IsDependencyFailure(args.Outcome)),
            OnOpened = args =>
            {
                breakers.Opened(dependency, args.BreakDuration);
                return default;
            },
            OnHalfOpened = _ =>
            {
                breakers.HalfOpened(dependency);
                return default;
            },
            OnClosed = _ =>
            {
                breakers.Closed(dependency);
                return default;
            },
        });
        pipeline.AddConcurrencyLimiter(options.MaxConcurrentRequests, options.MaxQueuedRequests);
        pipeline.AddTimeout(options.Timeouts.Attempt);
    }

    /// <summary>Dependency label of a Label Studio instance's breaker: <c>label-studio</c>, with the instance's authority when known.</summary>
    internal static string DependencyName(string? instance)
    {
        if (string.IsNullOrEmpty(instance))
        {
            return LabelStudioDependency;
        }

        var authority = Uri.TryCreate(instance, UriKind.Absolute, out var uri) ? uri.Authority : instance;
        return LabelStudioDependency + "@" + authority;
    }

    /// <summary>The dependency name of Label Studio's breakers, metrics and retries.</summary>
    public const string LabelStudioDependency = "label-studio";

    /// <summary>Whether a breaker's dependency is a Label Studio instance.</summary>
    public static bool IsLabelStudio(string dependency) =>
        dependency.StartsWith(LabelStudioDependency, StringComparison.Ordinal);

    /// <summary>
    /// What counts against the breaker: Label Studio unreachable, timing out or failing (5xx, 408). Not 429 (the
    /// Retry-After gate handles throttling), not 4xx answers, not rejected credentials.
    /// </summary>
    internal static bool IsDependencyFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: OperationCanceledException { InnerException: TimeoutException } } => true,
        { Result: { } response } => (int)response.StatusCode >= 500 || (int)response.StatusCode == 408,
        _ => false,
    };
}
