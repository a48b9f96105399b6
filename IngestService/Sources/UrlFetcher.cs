using System.Globalization;
using System.Net;
using IngestService.Storage;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Polly.Timeout;
using Suite.ServiceDefaults.Resilience;

namespace IngestService.Sources;

/// <summary>A fetched body in its temp file: how it was written, the URL that served it (after redirects), the name the remote gave it.</summary>
internal sealed record FetchedBody(BlobWrite Written, Uri FinalUrl, string? DispositionFileName);

/// <summary>
/// Fetches a URL source into an upload temp file (Req FMT-3, TMO-1, LS-6): GET through the <see cref="ClientName"/>
/// client (retries and attempt timeouts in its resilience pipeline, connects only to vetted addresses), redirects
/// followed here, each checked like the first URL, and the body streamed with the upload's size limit, whatever
/// Content-Length says or whether it says anything. One deadline, Sources:TotalTimeoutSeconds, covers all of it.
/// </summary>
internal sealed partial class UrlFetcher(
    IHttpClientFactory clients,
    SourceAddressGuard guard,
    IOptions<SourceOptions> options,
    ResilienceMetrics resilienceMetrics,
    ILogger<UrlFetcher> logger)
{
    public const string ClientName = "url-sources";

    /// <summary>The dependency name of its timeouts in the suite's metrics and of its resilience pipeline.</summary>
    public const string Dependency = "url-source";

    /// <summary>
    /// Fetches <paramref name="url"/> into <paramref name="tempPath"/>; <paramref name="inspect"/> sees each chunk and may
    /// stop the body (the PDF signature). Throws <see cref="UrlRefusedException"/> for whatever stops the fetch short of a body.
    /// </summary>
    public async Task<FetchedBody> FetchAsync(
        Uri url, string tempPath, long maxBytes, Func<ReadOnlyMemory<byte>, bool> inspect, CancellationToken requestAborted)
    {
        ArgumentNullException.ThrowIfNull(url);
        var settings = options.Value;
        // The pipeline's timeouts end with the response headers; the body, read after it returned, and the redirects need
        // a deadline of their own over the whole fetch.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        deadline.CancelAfter(settings.TotalTimeout);
        var cancellationToken = deadline.Token;
        var current = url;
        try
        {
            var client = clients.CreateClient(ClientName);
            for (var redirects = 0; ; redirects++)
            {
                var vetted = await VetAsync(current, redirects, cancellationToken);
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Options.Set(VettedHost.Key, vetted);
                request.Headers.TryAddWithoutValidation(HeaderNames.Accept, "application/pdf, */*;q=0.5");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (IsRedirect(response.StatusCode))
                {
                    current = NextHop(current, response, redirects, settings.MaxRedirects);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    var status = (int)response.StatusCode;
                    // The standard phrase, not the remote's: that is text anyone can make say anything, at any length.
                    throw UrlRefusedException.FetchFailed(
                        $"{SourceUrls.ForMessage(current)} answered {status.ToString(CultureInfo.InvariantCulture)} {ReasonPhrases.GetReasonPhrase(status)}", status);
                }

                if (response.Content.Headers.ContentLength > maxBytes)
                {
                    // Declared too large: refused before a byte of the body is read.
                    return new FetchedBody(BlobWrite.TooLarge, current, null);
                }

                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var written = await BlobStore.WriteTempAsync(body, tempPath, maxBytes, inspect, cancellationToken);
                LogFetched(SourceUrls.ForMessage(url), redirects, written.Status, written.SizeBytes);
                return new FetchedBody(written, current, DispositionFileName(response));
            }
        }
        catch (UrlRefusedException ex)
        {
            LogRefused(LevelOf(ex.Refusal), ex.Refusal.Kind, SourceUrls.ForMessage(url), ex.Refusal.Reason);
            throw;
        }
        catch (Exception ex) when (Describe(ex, deadline, requestAborted, settings) is { } refusal)
        {
            if (refusal.Kind == UrlRefusalKind.Timeout)
            {
                resilienceMetrics.Timeout(Dependency, "fetch");
            }

            LogRefused(LevelOf(refusal), refusal.Kind, SourceUrls.ForMessage(url), refusal.Reason);
            throw new UrlRefusedException(refusal);
        }
    }

    /// <summary>The guard's check of a hop; a refused redirect says where it went, as the client only knows its own URL.</summary>
    private async Task<VettedHost> VetAsync(Uri hop, int redirects, CancellationToken cancellationToken)
    {
        try
        {
            return await guard.VetAsync(hop, cancellationToken);
        }
        catch (UrlRefusedException ex) when (redirects > 0)
        {
            throw new UrlRefusedException(ex.Refusal with
            {
                Reason = $"redirect {redirects.ToString(CultureInfo.InvariantCulture)} leads to {SourceUrls.ForMessage(hop)}, and {ex.Refusal.Reason}",
            });
        }
    }

    /// <summary>What a failure of the fetch means for the client; null for what is not the remote's doing (the client left, the disk).</summary>
    private static UrlRefusal? Describe(Exception exception, CancellationTokenSource deadline, CancellationToken requestAborted, SourceOptions settings)
    {
        if (requestAborted.IsCancellationRequested)
        {
            return null;
        }

        if (UrlSourceResilience.RefusalIn(exception) is { } refused)
        {
            // The guard in the connect callback refused a host the request carried no check of.
            return refused.Refusal;
        }

        return exception switch
        {
            OperationCanceledException or RequestBodyException when deadline.IsCancellationRequested => new UrlRefusal(UrlRefusalKind.Timeout,
                $"it was not complete within {settings.TotalTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s", Retryable: true),
            OperationCanceledException => new UrlRefusal(UrlRefusalKind.Timeout,
                $"no connection within {settings.ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s", Retryable: true),
            TimeoutRejectedException => new UrlRefusal(UrlRefusalKind.Timeout,
                $"no answer within {settings.AttemptTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s, on every attempt", Retryable: true),
            HttpRequestException { HttpRequestError: HttpRequestError.ConfigurationLimitExceeded } => new UrlRefusal(UrlRefusalKind.FetchFailed,
                $"the remote's response headers are larger than {settings.MaxResponseHeadersKilobytes.ToString(CultureInfo.InvariantCulture)} KiB"),
            HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } http => new UrlRefusal(UrlRefusalKind.FetchFailed,
                "the TLS handshake with the remote failed (" + (http.InnerException?.Message ?? "no detail") + "): its certificate is not trusted or does not name the host"),
            HttpRequestException http => new UrlRefusal(UrlRefusalKind.FetchFailed, "the remote could not be reached or broke off its answer (" + Reason(http) + ")",
                Retryable: true),
            RequestBodyException body => new UrlRefusal(UrlRefusalKind.FetchFailed,
                "the remote broke off the document (" + (body.InnerException?.Message ?? body.Message) + ")", Retryable: true),
            _ => null,
        };
    }

    /// <summary>The socket error, else the error kind: enough to act on, without the URL HttpClient puts in some messages.</summary>
    private static string Reason(HttpRequestException exception) =>
        exception.InnerException is System.Net.Sockets.SocketException socket ? socket.SocketErrorCode.ToString() : exception.HttpRequestError.ToString();

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>The redirect's target, checked for its form (its host is checked by the next hop's guard).</summary>
    private static Uri NextHop(Uri current, HttpResponseMessage response, int redirects, int maxRedirects)
    {
        if (redirects >= maxRedirects)
        {
            throw UrlRefusedException.FetchFailed(
                $"the remote redirected more than {maxRedirects.ToString(CultureInfo.InvariantCulture)} times (Sources:MaxRedirects)", retryable: false);
        }

        if (response.Headers.Location is not { } location)
        {
            throw UrlRefusedException.FetchFailed(
                $"{SourceUrls.ForMessage(current)} answered {(int)response.StatusCode} without a Location", (int)response.StatusCode, retryable: false);
        }

        var next = location.IsAbsoluteUri ? location : new Uri(current, location);
        return SourceUrls.WhyNotFetchable(next) is { } why
            ? throw UrlRefusedException.Forbidden($"{SourceUrls.ForMessage(current)} redirects to a URL this service does not follow: {why}")
            : next;
    }

    private static string? DispositionFileName(HttpResponseMessage response)
    {
        var disposition = response.Content.Headers.ContentDisposition;
        var name = disposition?.FileNameStar ?? disposition?.FileName;
        return string.IsNullOrWhiteSpace(name) ? null : name.Trim('"');
    }

    /// <summary>A forbidden address is worth an operator's look (a probe of the internal network, or a host to allow); the rest is the remote's business.</summary>
    private static LogLevel LevelOf(UrlRefusal refusal) => refusal.Kind == UrlRefusalKind.Forbidden ? LogLevel.Warning : LogLevel.Information;

    [LoggerMessage(Level = LogLevel.Information, Message = "URL source {Url} fetched after {Redirects} redirects: {Status}, {SizeBytes} bytes")]
    private partial void LogFetched(string url, int redirects, BlobWriteStatus status, long sizeBytes);

    [LoggerMessage(Message = "URL source {Url} refused ({Kind}): {Reason}")]
    private partial void LogRefused(LogLevel level, UrlRefusalKind kind, string url, string reason);
}
