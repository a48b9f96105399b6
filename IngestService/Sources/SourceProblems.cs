using System.Globalization;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Sources;

/// <summary>The problems of URL uploads (a JSON body <c>{"url": …}</c>): each with a stable code and what to do about it.</summary>
internal static class SourceProblems
{
    public const string UrlField = "url";
    public const string FileNameField = "fileName";

    /// <summary>The JSON body is not a URL upload: malformed, not an object, an unknown or duplicate member, a missing url.</summary>
    public static IResult InvalidRequest(string? field, string why) => ApiProblem.Result(400, "invalid_url_request", "Invalid URL upload",
        $"The JSON body is not a URL upload: {why}. Send {{\"{UrlField}\": \"https://…\"}} with an optional \"{FileNameField}\", " +
        "and the pipeline options (docs/api.md), nothing else; nothing was fetched or stored.",
        extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    /// <summary>The client's URL is not one this service fetches (its form; where it leads is url_forbidden).</summary>
    public static IResult UrlInvalid(string why) => ApiProblem.Result(400, "url_invalid", "URL not accepted",
        $"The URL is not one this service fetches: {why}. Send an absolute http:// or https:// URL of at most " +
        $"{SourceUrls.MaxLength.ToString(CultureInfo.InvariantCulture)} characters, without user name or password; nothing was fetched or stored.",
        extensions: new Dictionary<string, object?> { ["field"] = UrlField });

    public static IResult For(UrlRefusal refusal, SourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        ArgumentNullException.ThrowIfNull(options);
        return refusal.Kind switch
        {
            UrlRefusalKind.Invalid => UrlInvalid(refusal.Reason),
            UrlRefusalKind.Forbidden => ApiProblem.Result(422, "url_forbidden", "URL leads to a forbidden address",
                $"The URL was refused: {refusal.Reason}. This service fetches only from public internet addresses, for the URL and " +
                "every redirect; nothing was stored. Use a URL on a public host, or, if this host is meant to be reachable, " +
                "ask the operator to add it to Sources:AllowedHosts.",
                extensions: new Dictionary<string, object?> { ["field"] = UrlField, ["reason"] = refusal.Reason }),
            UrlRefusalKind.FetchFailed => ApiProblem.Result(502, "url_fetch_failed", "The document could not be fetched",
                $"Fetching the URL failed: {refusal.Reason}; nothing was stored. " +
                (refusal.Retryable
                    ? "This may pass: upload the URL again later."
                    : "Check the URL (it must serve the document itself, without a login), or upload the file as multipart/form-data."),
                retryable: refusal.Retryable,
                extensions: new Dictionary<string, object?> { ["reason"] = refusal.Reason, ["remoteStatus"] = refusal.RemoteStatus }),
            _ => ApiProblem.Result(504, "url_timeout", "The document took too long to fetch",
                $"Fetching the URL took too long: {refusal.Reason}; nothing was stored. The whole fetch (every redirect and the body) " +
                $"may take {options.TotalTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s (Sources:TotalTimeoutSeconds). " +
                "Upload the URL again later, or upload the file itself as multipart/form-data.",
                retryable: true,
                extensions: new Dictionary<string, object?> { ["reason"] = refusal.Reason }),
        };
    }

    /// <summary>A remote body of 0 bytes, the URL counterpart of the multipart path's empty_file.</summary>
    public static IResult EmptyBody() => ApiProblem.Result(400, "empty_file", "The fetched document is empty",
        "The URL answered with 0 bytes; nothing was stored. Check that it serves the PDF itself.",
        extensions: new Dictionary<string, object?> { ["field"] = UrlField });
}
