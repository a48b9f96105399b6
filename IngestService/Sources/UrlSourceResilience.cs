using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace IngestService.Sources;

/// <summary>
/// The resilience pipeline of the URL source client (Req TMO-1, RTY-1, RTY-2, RTY-3): transient failures (connection
/// errors, timed-out attempts, 408, 429, 5xx) retried with exponential backoff and jitter, honouring Retry-After, each
/// attempt bounded by Sources:AttemptTimeoutSeconds. The total is the fetcher's deadline (Sources:TotalTimeoutSeconds),
/// passed in as the cancellation token, as it must also cover the redirects and the body, which the pipeline never sees.
/// No circuit breaker: every URL is a different remote, and one that fails must not close the door on the others.
/// </summary>
internal static class UrlSourceResilience
{
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(context);
        var options = context.ServiceProvider.GetRequiredService<IOptions<SourceOptions>>().Value;
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryDelay,
                MaxDelay = TimeSpan.FromSeconds(10),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome)),
            });
        }

        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
    }

    /// <summary>Transient, and not a refusal: a forbidden address, oversized headers or an untrusted certificate stay what they are on a second try.</summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome) =>
        RefusalIn(outcome.Exception) is null
        && outcome.Exception is not HttpRequestException { HttpRequestError: HttpRequestError.ConfigurationLimitExceeded or HttpRequestError.SecureConnectionError }
        && HttpClientResiliencePredicates.IsTransient(outcome);

    /// <summary>The guard's refusal inside an exception (the handler wraps what the connect callback throws), if any.</summary>
    public static UrlRefusedException? RefusalIn(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is UrlRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }
}
