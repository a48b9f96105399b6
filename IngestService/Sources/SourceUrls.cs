using System.Text;

namespace IngestService.Sources;

/// <summary>
/// What a URL source's URL may look like, and how it is shown. A URL's query often carries a credential (the signature
/// of a pre-signed URL): it never appears in a log line or an error message, and the catalog keeps the query's names
/// without their values (Req SEC-2).
/// </summary>
internal static class SourceUrls
{
    public const int MaxLength = 2048;

    /// <summary>What the catalog keeps in place of each query value.</summary>
    public const string RedactedValue = "redacted";

    /// <summary>Null when this service may fetch <paramref name="url"/>'s form; else why not (the host is checked elsewhere).</summary>
    public static string? WhyNotFetchable(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
        {
            return "it is not an absolute URL";
        }

        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            return $"its scheme is {url.Scheme}:, and only http: and https: are fetched";
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // A password in a URL ends up in logs and histories; pre-signed URLs carry their credential in the query.
            return "it carries a user name or password (user:password@host); credentials in URLs are not accepted, use a pre-signed URL";
        }

        if (string.IsNullOrEmpty(url.Host))
        {
            return "it has no host";
        }

        return url.OriginalString.Length > MaxLength ? $"it is longer than {MaxLength} characters" : null;
    }

    /// <summary>For logs and messages: scheme, host, port and path; a query is shown as "?…".</summary>
    public static string ForMessage(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.GetLeftPart(UriPartial.Path) + (string.IsNullOrEmpty(url.Query) ? "" : "?…");
    }

    /// <summary>For the catalog (the document's sourceUrl): without fragment, the query's names kept and their values left out.</summary>
    public static string ForRecord(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = new StringBuilder(url.GetLeftPart(UriPartial.Path));
        var query = url.Query.TrimStart('?');
        if (query.Length > 0)
        {
            var separator = '?';
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                text.Append(separator).Append(equals < 0 ? pair : pair[..equals]).Append(equals < 0 ? "" : "=" + RedactedValue);
                separator = '&';
            }
        }

        return text.ToString();
    }

    /// <summary>The last segment of the URL's path, unescaped (a file name for a document without one); null when empty.</summary>
    public static string? LastSegment(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var path = url.AbsolutePath;
        var segment = path[(path.LastIndexOf('/') + 1)..];
        return segment.Length == 0 ? null : Uri.UnescapeDataString(segment);
    }
}
