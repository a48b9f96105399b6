using System.ComponentModel.DataAnnotations;

namespace IngestService.Sources;

/// <summary>
/// Fetching documents from URLs (section <c>Sources</c>): the timeouts and retries of the fetch, the redirects it
/// follows, and the hosts it may reach although they are not public internet addresses (Req FMT-3, TMO-1).
/// </summary>
internal sealed class SourceOptions
{
    public const string Section = "Sources";

    /// <summary>Budget of one TCP connect (per address tried); a remote that does not accept in time is a timeout.</summary>
    [Range(1, 300, ErrorMessage = "Sources:ConnectTimeoutSeconds must be from 1 to 300.")]
    public int ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>Budget of one attempt up to the response headers; a timed-out attempt is retried like a transient error.</summary>
    [Range(1, 3600, ErrorMessage = "Sources:AttemptTimeoutSeconds must be from 1 to 3600.")]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Budget of the whole fetch: DNS, every attempt and redirect, and the body to its last byte. Past it the upload is
    /// answered 504 url_timeout and nothing is kept.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "Sources:TotalTimeoutSeconds must be from 1 to 3600.")]
    public int TotalTimeoutSeconds { get; set; } = 30;

    /// <summary>Retries of a transient failure (connection error, timeout, 408, 429, 5xx) of one hop; 0 turns them off.</summary>
    [Range(0, 10, ErrorMessage = "Sources:MaxRetries must be from 0 to 10.")]
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay; doubles with jitter (a 429's or 503's Retry-After is honoured), capped at 10 s.</summary>
    [Range(1, 60_000, ErrorMessage = "Sources:RetryDelayMilliseconds must be from 1 to 60000.")]
    public int RetryDelayMilliseconds { get; set; } = 500;

    /// <summary>Redirects followed (each one checked like the first URL); one more is answered url_fetch_failed.</summary>
    [Range(0, 20, ErrorMessage = "Sources:MaxRedirects must be from 0 to 20.")]
    public int MaxRedirects { get; set; } = 5;

    /// <summary>Largest response header block accepted, in KiB; a remote sending more is refused (url_fetch_failed).</summary>
    [Range(1, 1024, ErrorMessage = "Sources:MaxResponseHeadersKilobytes must be from 1 to 1024.")]
    public int MaxResponseHeadersKilobytes { get; set; } = 32;

    /// <summary>
    /// Host names (exact, case-insensitive; the ASCII/punycode form) and addresses or CIDR ranges (<c>10.1.0.0/16</c>,
    /// <c>fd00::/8</c>) that may be fetched although they are private, loopback, link-local or otherwise not public.
    /// Empty by default: only public internet addresses are fetched.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    public TimeSpan ConnectTimeout => TimeSpan.FromSeconds(ConnectTimeoutSeconds);

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TotalTimeoutSeconds);

    public TimeSpan RetryDelay => TimeSpan.FromMilliseconds(RetryDelayMilliseconds);
}
