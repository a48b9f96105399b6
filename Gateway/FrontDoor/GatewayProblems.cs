using System.Globalization;
using Suite.ServiceDefaults.Problems;

namespace Gateway.FrontDoor;

/// <summary>Every problem the gateway itself answers with (the services behind it answer their own).</summary>
internal static class GatewayProblems
{
    public static IResult ApiKeyMissing() => ApiProblem.Result(401, "api_key_missing", "API key required",
        $"Send your API key in the {ApiKeyAuthenticationHandler.HeaderName} header (or as Authorization: Bearer <key>). " +
        "Ask the operator of this suite for a key; see docs/api.md.");

    public static IResult ApiKeyInvalid() => ApiProblem.Result(401, "api_key_invalid", "API key not accepted",
        "The API key sent is not one this gateway knows. Check that it was copied whole, or ask the operator for a current key.");

    public static IResult RateLimited(string policy, TimeSpan retryAfter) => ApiProblem.Result(429, "rate_limited", "Too many requests",
        $"This client sent more {(policy == RateLimitPolicies.Uploads ? "uploads" : "requests")} than its limit allows. " +
        $"Wait {Seconds(retryAfter)} s (Retry-After) and send it again; spread requests out to stay under the limit.",
        retryable: true, retryAfter: retryAfter,
        extensions: new Dictionary<string, object?> { ["limit"] = policy });

    public static IResult InvalidPath() => ApiProblem.Result(400, "invalid_path", "Path not accepted",
        "The request path contains an encoded separator or dot (%2F, %5C, %2E), a backslash, an empty segment or a '.'/'..' " +
        "segment. Send the plain path, for example /api/documents/{id}.");

    /// <summary>Same code as the service's own refusal, so a client handles one code wherever the limit bit.</summary>
    public static IResult BodyTooLarge(long? maxBytes) => ApiProblem.Result(413, "file_too_large", "The uploaded file is too large",
        (maxBytes is > 0 ? $"The request body exceeds the gateway's limit of {maxBytes.Value.ToString(CultureInfo.InvariantCulture)} bytes; " : "The request body exceeds the gateway's limit; ") +
        "nothing was stored. Upload a smaller file or split the document.",
        extensions: maxBytes is > 0 ? new Dictionary<string, object?> { ["maxBytes"] = maxBytes } : null);

    public static IResult ForwardFailed(int status, string code, string detail, bool retryable) =>
        ApiProblem.Result(status, code, "The request could not be forwarded", detail,
            retryable: retryable, retryAfter: retryable ? TimeSpan.FromSeconds(2) : null);

    private static string Seconds(TimeSpan value) => Math.Ceiling(value.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}
