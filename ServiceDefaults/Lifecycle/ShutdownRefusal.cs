using Microsoft.AspNetCore.Http;
using Suite.ServiceDefaults.Problems;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Once shutdown has begun, a request that arrives is refused with 503 <c>shutting_down</c> and Retry-After (another
/// replica, or this one restarted, can take it), and its connection is closed so the client opens a new one elsewhere.
/// Requests already running are not touched: they finish while the server drains. The health probes and metrics keep
/// answering (live 200, ready 503), so orchestrators see the service leave.
/// </summary>
internal sealed class ShutdownRefusal(RequestDelegate next, ShutdownState shutdown)
{
    /// <summary>Long enough for an orchestrator to route elsewhere or for this service to be back.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public Task InvokeAsync(HttpContext context)
    {
        if (!shutdown.IsShuttingDown || IsProbe(context.Request.Path))
        {
            return next(context);
        }

        context.Response.Headers.Connection = "close";
        return ApiProblem.Result(503, "shutting_down", "Service shutting down",
                "This service instance is shutting down and takes no new requests; nothing was done. Send the request again " +
                "after the Retry-After delay: another instance, or this one once restarted, will take it.",
                retryable: true, retryAfter: RetryAfter)
            .ExecuteAsync(context);
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);
}
