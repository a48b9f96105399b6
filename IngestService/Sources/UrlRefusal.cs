namespace IngestService.Sources;

/// <summary>What went wrong with a URL source, as the client is told (SourceProblems turns each into its problem).</summary>
internal enum UrlRefusalKind
{
    /// <summary>The client's URL is not one this service fetches (scheme, credentials, length): 400 url_invalid.</summary>
    Invalid,

    /// <summary>The URL, or a redirect, leads somewhere this service must not go (a non-public address): 422 url_forbidden.</summary>
    Forbidden,

    /// <summary>The remote could not be reached or did not deliver (DNS, connection, status, broken body): 502 url_fetch_failed.</summary>
    FetchFailed,

    /// <summary>The fetch ran out of time (connect, attempts, or the whole fetch): 504 url_timeout.</summary>
    Timeout,
}

/// <summary>
/// A URL source refused or failed: the kind, a reason a person can act on (never the URL's query, which may hold a
/// signature), when the remote answered its status, and whether the same upload later can succeed.
/// </summary>
internal sealed record UrlRefusal(UrlRefusalKind Kind, string Reason, int? RemoteStatus = null, bool Retryable = false);

/// <summary>Ends a fetch with a <see cref="UrlRefusal"/>; thrown from the connect callback too, where it arrives wrapped in an HttpRequestException.</summary>
internal sealed class UrlRefusedException(UrlRefusal refusal) : Exception(refusal.Reason)
{
    public UrlRefusal Refusal { get; } = refusal;

    public static UrlRefusedException Forbidden(string reason) => new(new UrlRefusal(UrlRefusalKind.Forbidden, reason));

    /// <summary>A failed fetch; retryable unless said otherwise when the remote did not answer or answered 408, 429 or 5xx.</summary>
    public static UrlRefusedException FetchFailed(string reason, int? remoteStatus = null, bool? retryable = null) =>
        new(new UrlRefusal(UrlRefusalKind.FetchFailed, reason, remoteStatus, retryable ?? remoteStatus is null or 408 or 429 or >= 500));

    public static UrlRefusedException Timeout(string reason) => new(new UrlRefusal(UrlRefusalKind.Timeout, reason, Retryable: true));
}
