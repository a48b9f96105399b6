using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace LabelingBridge.LabelStudio;

/// <summary>Stable error codes of Label Studio calls: exports' last error, log field and metric label.</summary>
public static class LabelStudioErrorCodes
{
    public const string Timeout = "timeout";
    public const string Network = "network";
    public const string ServerError = "server_error";
    public const string Throttled = "throttled";
    public const string CredentialsRejected = "credentials_rejected";
    public const string NotFound = "not_found";
    public const string InvalidRequest = "invalid_request";
    public const string Conflict = "conflict";
    public const string BreakerOpen = "breaker_open";
    public const string BulkheadFull = "bulkhead_full";
    public const string UnexpectedResponse = "unexpected_response";
    public const string ImportFailed = "import_failed";
}

/// <summary>One classified failure (RTY-1): retryable or permanent, with the server's Retry-After when it sent one.</summary>
/// <param name="NotSent">True when the bridge refused the call itself (open breaker, Retry-After not elapsed, credentials known bad): Label Studio saw nothing.</param>
public sealed record LabelStudioError(string Code, bool Retryable, string Message, int? StatusCode = null, TimeSpan? RetryAfter = null, bool NotSent = false)
{
    /// <summary>Classifies an HTTP status: network-ish, 408, 429 and 5xx are retryable; 400, 401, 403, 404, 409, 422 are not.</summary>
    public static LabelStudioError FromStatus(int status, string? detail, TimeSpan? retryAfter = null)
    {
        var what = string.IsNullOrWhiteSpace(detail) ? "" : ": " + detail;
        return status switch
        {
            401 or 403 => new(LabelStudioErrorCodes.CredentialsRejected, false, $"Label Studio rejected the credentials (HTTP {status}){what}", status),
            408 => new(LabelStudioErrorCodes.Timeout, true, $"Label Studio timed out the request (HTTP 408){what}", status, retryAfter),
            429 => new(LabelStudioErrorCodes.Throttled, true, $"Label Studio is throttling requests (HTTP 429){what}", status, retryAfter),
            404 => new(LabelStudioErrorCodes.NotFound, false, $"Label Studio does not know the resource (HTTP 404){what}", status),
            409 => new(LabelStudioErrorCodes.Conflict, false, $"Label Studio refused the request as conflicting (HTTP 409){what}", status),
            400 or 422 => new(LabelStudioErrorCodes.InvalidRequest, false, $"Label Studio refused the request as invalid (HTTP {status}){what}", status),
            >= 500 => new(LabelStudioErrorCodes.ServerError, true, $"Label Studio failed (HTTP {status}){what}", status, retryAfter),
            _ => new(LabelStudioErrorCodes.UnexpectedResponse, false, $"Label Studio answered HTTP {status}{what}", status),
        };
    }

    /// <summary>Classifies an exception thrown while calling Label Studio; null when it is not a call failure.</summary>
    public static LabelStudioError? FromException(Exception exception) => exception switch
    {
        LabelStudioException ls => ls.Error,
        BrokenCircuitException broken => new(LabelStudioErrorCodes.BreakerOpen, false,
            "The circuit breaker for Label Studio is open after repeated failures; calls fail fast until it lets a probe through.", RetryAfter: broken.RetryAfter, NotSent: true),
        TimeoutRejectedException timeout => new(LabelStudioErrorCodes.Timeout, true, $"Label Studio did not answer within {timeout.Timeout.TotalSeconds:0.###} s."),
        RateLimiterRejectedException => new(LabelStudioErrorCodes.BulkheadFull, true, "Too many requests to Label Studio are already waiting (bulkhead full).", NotSent: true),
        OperationCanceledException { InnerException: TimeoutException } or HttpRequestException { InnerException: TimeoutException }
            => new(LabelStudioErrorCodes.Timeout, true, "Connecting to Label Studio timed out."),
        HttpRequestException { StatusCode: { } status } when (int)status >= 500 => FromStatus((int)status, exception.Message),
        HttpRequestException http => new(LabelStudioErrorCodes.Network, true, "Label Studio could not be reached: " + Describe(http)),
        JsonException json => new(LabelStudioErrorCodes.UnexpectedResponse, true, "Label Studio's answer was not the expected JSON: " + json.Message),
        _ => null,
    };

    /// <summary>Retry-After as a delay (seconds or an HTTP date), if the response has one.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseHeaders headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var header = headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>Label Studio's error body <c>{detail, validation_errors}</c>, shortened for messages.</summary>
    public static string? DetailOf(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Trim(body);
            }

            var detail = json.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            if (json.RootElement.TryGetProperty("validation_errors", out var v) && v.ValueKind == JsonValueKind.Object)
            {
                detail = (detail is null ? "" : detail + " ") + v.GetRawText();
            }

            return Trim(detail ?? body);
        }
        catch (JsonException)
        {
            return Trim(body);
        }
    }

    private static string Trim(string text) => text.Length <= 400 ? text : text[..400] + "...";

    private static string Describe(HttpRequestException http) => http.InnerException is SocketException socket
        ? $"{socket.SocketErrorCode} ({http.Message})"
        : http.Message;
}

/// <summary>A classified failure of a Label Studio call.</summary>
public sealed class LabelStudioException : Exception
{
    public LabelStudioException(LabelStudioError error, Exception? inner = null)
        : base(error?.Message, inner)
    {
        Error = error ?? throw new ArgumentNullException(nameof(error));
    }

    public LabelStudioException()
        : this(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, false, "Label Studio call failed"))
    {
    }

    public LabelStudioException(string message)
        : this(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, false, message))
    {
    }

    public LabelStudioException(string message, Exception innerException)
        : this(new LabelStudioError(LabelStudioErrorCodes.UnexpectedResponse, false, message), innerException)
    {
    }

    public LabelStudioError Error { get; }

    public bool IsStatus(HttpStatusCode status) => Error.StatusCode == (int)status;
}
