using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.ServiceDefaults.Problems;

/// <summary>
/// Builds the RFC 9457 problem every client-visible error uses: a stable <c>code</c>, a message a person can
/// act on, whether retrying can help, Retry-After where it applies, and the trace id. Never a stack trace.
/// </summary>
public static class ApiProblem
{
    public const string ContentType = "application/problem+json";

    public static IResult Result(
        int status,
        string code,
        string title,
        string detail,
        bool retryable = false,
        TimeSpan? retryAfter = null,
        IDictionary<string, object?>? extensions = null)
    {
        var problem = Create(status, code, title, detail, retryable, retryAfter, extensions);
        return new ProblemResult(problem, retryAfter);
    }

    public static ProblemDetails Create(
        int status,
        string code,
        string title,
        string detail,
        bool retryable = false,
        TimeSpan? retryAfter = null,
        IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = "https://suite.local/problems/" + code.Replace('_', '-'),
        };
        problem.Extensions["code"] = code;
        problem.Extensions["retryable"] = retryable;
        if (retryAfter is { } after)
        {
            problem.Extensions["retryAfterSeconds"] = (int)Math.Ceiling(after.TotalSeconds);
        }

        if (extensions is not null)
        {
            foreach (var (key, value) in extensions)
            {
                problem.Extensions[key] = value;
            }
        }

        return problem;
    }

    /// <summary>Adds the trace id and instance to a problem about to be written.</summary>
    internal static void Enrich(ProblemDetails problem, HttpContext context)
    {
        problem.Instance ??= context.Request.Path;
        var traceId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        problem.Extensions["traceId"] = traceId;
        if (!problem.Extensions.ContainsKey("code"))
        {
            problem.Extensions["code"] = DefaultCode(problem.Status ?? 500);
            problem.Extensions["retryable"] = problem.Status is 408 or 429 or >= 500;
        }

        // Bare status codes (an unknown route, a wrong method) get words a person can act on too.
        problem.Detail ??= DefaultDetail(problem.Status ?? 500, context.Request.Method, context.Request.Path);

        // Every problem written is counted by its code (errors by code, Req OBS-3).
        if (context.RequestServices?.GetService(typeof(ProblemMetrics)) is ProblemMetrics metrics)
        {
            metrics.Record(problem.Extensions["code"]?.ToString() ?? "unknown", problem.Status ?? 500, context.Request.Path);
        }
    }

    internal static string DefaultCode(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "too_many_requests",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ when status >= 500 => "internal_error",
        _ => "error_" + status.ToString(CultureInfo.InvariantCulture),
    };

    internal static string DefaultDetail(int status, string method, string path) => status switch
    {
        404 => $"Nothing answers {method} {path}. Check the path against the API reference (/docs/ on the gateway).",
        405 => $"{path} does not take {method}. Check the method against the API reference (/docs/ on the gateway).",
        401 => "The request is not authenticated. Send your API key in the X-Api-Key header.",
        415 => "The request body's content type is not one this endpoint takes. Check the API reference (/docs/ on the gateway).",
        >= 500 => "The server could not handle the request. Retry; if it persists, report the trace id.",
        _ => "The request was refused. The code names the reason; docs/errors.md says what to do.",
    };

    private sealed class ProblemResult(ProblemDetails problem, TimeSpan? retryAfter) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => problem.Status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            if (retryAfter is { } after)
            {
                httpContext.Response.Headers.RetryAfter =
                    ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            httpContext.Response.StatusCode = problem.Status ?? 500;
            var writer = httpContext.RequestServices.GetService(typeof(IProblemDetailsService)) as IProblemDetailsService;
            if (writer is null || !await writer.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem }))
            {
                Enrich(problem, httpContext);
                await httpContext.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, ContentType);
            }
        }
    }
}
