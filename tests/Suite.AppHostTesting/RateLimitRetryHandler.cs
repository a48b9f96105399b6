using System.Net;

namespace Suite.Testing;

/// <summary>
/// What a well-behaved client of the gateway does: a 429 <c>rate_limited</c> answer is retried after its Retry-After
/// (a bounded number of times). Other 429s (a full queue) are answers the test wants to see, so they pass through.
/// </summary>
public sealed class RateLimitRetryHandler(int maxRetries = 60) : DelegatingHandler(new HttpClientHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var attempt = 0; ; attempt++)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt >= maxRetries
                || !(await response.Content.ReadAsStringAsync(cancellationToken)).Contains("\"rate_limited\"", StringComparison.Ordinal))
            {
                return response;
            }

            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait, cancellationToken);
        }
    }
}
