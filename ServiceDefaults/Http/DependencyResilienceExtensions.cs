using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Suite.ServiceDefaults.Http;

public static class DependencyResilienceExtensions
{
    /// <summary>Header a caller sets on an unsafe request (POST, PUT, PATCH, DELETE) that the receiver deduplicates.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// The standard resilience handler for one named client, so the dependency behind it has its own circuit
    /// breaker and its own timeouts (section <c>Resilience:{clientName}</c> overrides the defaults below).
    /// Unsafe methods are retried only when they carry an Idempotency-Key the receiver honours.
    /// </summary>
    public static IHttpStandardResiliencePipelineBuilder AddDependencyResilience(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var resilience = builder.AddStandardResilienceHandler();
        resilience.Configure((HttpStandardResilienceOptions options, IServiceProvider services) =>
        {
            // Design defaults: 3 retries, exponential from 200 ms with jitter, attempt 30 s, total 90 s.
            options.Retry.MaxRetryAttempts = 3;
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
            options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
            options.Retry.BackoffType = DelayBackoffType.Exponential;
            options.Retry.UseJitter = true;
            options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(30);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(90);
            options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(60);
            options.CircuitBreaker.MinimumThroughput = 5;
            options.CircuitBreaker.FailureRatio = 0.5;
            options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);

            services.GetRequiredService<IConfiguration>().GetSection("Resilience:" + builder.Name).Bind(options);

            var transient = options.Retry.ShouldHandle;
            options.Retry.ShouldHandle = args =>
            {
                var request = args.Outcome.Result?.RequestMessage ?? args.Context.GetRequestMessage();
                return request is not null && !IsSafeToRepeat(request) ? PredicateResult.False() : transient(args);
            };
        });
        return resilience;
    }

    /// <summary>GET, HEAD, OPTIONS and TRACE are safe; others only with an Idempotency-Key.</summary>
    public static bool IsSafeToRepeat(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = request.Method;
        if (method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace)
        {
            return true;
        }

        return request.Headers.TryGetValues(IdempotencyKeyHeader, out var values) && values.Any(v => !string.IsNullOrWhiteSpace(v));
    }

    /// <summary>Sets the Idempotency-Key of a request.</summary>
    public static void SetIdempotencyKey(this HttpRequestHeaders headers, string key)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.Remove(IdempotencyKeyHeader);
        headers.TryAddWithoutValidation(IdempotencyKeyHeader, key);
    }
}
