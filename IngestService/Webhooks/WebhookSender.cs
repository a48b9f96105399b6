using System.Globalization;
using System.Net;
using System.Text;
using IngestService.Sources;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace IngestService.Webhooks;

/// <summary>What one delivery round came to, and how many HTTP requests it made.</summary>
internal enum WebhookRoundKind
{
    Delivered,
    Transient,
    Permanent,
    BreakerOpen,
}

internal sealed record WebhookRound(WebhookRoundKind Kind, int Attempts, int? StatusCode = null, string? Error = null, TimeSpan? RetryAfter = null);

/// <summary>
/// One delivery round: the destination checked again with the URL sources' guard (DNS resolved now; every address
/// public or allowed, and the connection made to exactly those addresses, Req FMT-3), then the signed POST through the
/// destination's pipeline (<see cref="WebhookPipelines"/>). Redirects are not followed: a 3xx is a permanent failure,
/// so a receiver cannot point the service somewhere else. Each attempt gets a fresh <c>webhook-timestamp</c> and
/// signature over the same body and <c>webhook-id</c>.
/// </summary>
internal sealed class WebhookSender(IHttpClientFactory clients, WebhookPipelines pipelines, SourceAddressGuard guard, WebhookMetrics metrics, TimeProvider time)
{
    public const string ClientName = "webhooks";

    public async Task<WebhookRound> SendAsync(WebhookDelivery delivery, string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (!Uri.TryCreate(delivery.Url, UriKind.Absolute, out var url))
        {
            return new WebhookRound(WebhookRoundKind.Permanent, 0, Error: "the URL cannot be used: it is not absolute");
        }

        if (SourceUrls.WhyNotFetchable(url) is { } invalid)
        {
            return new WebhookRound(WebhookRoundKind.Permanent, 0, Error: "the URL cannot be used: " + invalid);
        }

        VettedHost vetted;
        try
        {
            vetted = await guard.VetAsync(url, cancellationToken);
        }
        catch (UrlRefusedException ex)
        {
            return new WebhookRound(ex.Refusal.Retryable ? WebhookRoundKind.Transient : WebhookRoundKind.Permanent, 0, Error: ex.Refusal.Reason);
        }

        var client = clients.CreateClient(ClientName);
        var attempts = 0;
        try
        {
            using var response = await pipelines.For(url.Authority).ExecuteAsync(async token =>
            {
                Interlocked.Increment(ref attempts);
                var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
                };
                request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, delivery.Id);
                request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
                request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(secret, delivery.Id, timestamp, delivery.Payload));
                request.Options.Set(VettedHost.Key, vetted);
                try
                {
                    var answer = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                    metrics.Attempt(answer.IsSuccessStatusCode);
                    return answer;
                }
                catch
                {
                    metrics.Attempt(false);
                    throw;
                }
            }, cancellationToken);

            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new WebhookRound(WebhookRoundKind.Delivered, attempts, code);
            }

            var why = WebhookPipelines.IsRedirect(response.StatusCode)
                ? $"the receiver answered {code} (a redirect); webhooks follow no redirect, give the final URL"
                : $"the receiver answered {code}";
            var transient = IsTransientStatus(response.StatusCode);
            return new WebhookRound(transient ? WebhookRoundKind.Transient : WebhookRoundKind.Permanent, attempts, code, why, RetryAfterOf(response));
        }
        catch (BrokenCircuitException ex)
        {
            return new WebhookRound(WebhookRoundKind.BreakerOpen, attempts, Error: $"the circuit breaker of {url.Authority} is open after repeated failures", RetryAfter: ex.RetryAfter);
        }
        catch (TimeoutRejectedException)
        {
            return new WebhookRound(WebhookRoundKind.Transient, attempts, Error: "the receiver did not answer in time");
        }
        catch (HttpRequestException ex)
        {
            return UrlSourceResilience.RefusalIn(ex) is { } refused
                ? new WebhookRound(WebhookRoundKind.Permanent, attempts, Error: refused.Refusal.Reason)
                : new WebhookRound(WebhookRoundKind.Transient, attempts, Error: "the receiver could not be reached: " + ex.Message);
        }
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        return header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
    }

    /// <summary>408, 429 and 5xx are worth another round (Req RTY-1); any other status is the receiver's final word.</summary>
    internal static bool IsTransientStatus(HttpStatusCode status) => (int)status is 408 or 429 or >= 500;
}
