using Suite.ServiceDefaults.Problems;
using Yarp.ReverseProxy.Forwarder;

namespace Microsoft.Extensions.Hosting;

public static class DocumentProxyExtensions
{
    /// <summary>The problems the gateway itself answers on any proxied route (also declared in the public API document).</summary>
    internal static readonly IReadOnlyList<(int Status, string Code)> ForwarderProblems =
        [(502, UpstreamFailed), (503, UpstreamUnavailable), (504, UpstreamTimeout)];

    private const string UpstreamFailed = "upstream_failed";
    private const string UpstreamUnavailable = "upstream_unavailable";
    private const string UpstreamTimeout = "upstream_timeout";

    /// <summary>
    /// YARP with routes and clusters from the ReverseProxy configuration section; cluster addresses are
    /// logical service names resolved through service discovery. Only public API routes are configured, so
    /// the services' internal endpoints are unreachable through the gateway.
    /// </summary>
    public static IHostApplicationBuilder AddDocumentProxy(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }

    public static WebApplication MapDocumentProxy(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapReverseProxy(proxy => proxy.Use(WriteForwarderErrorsAsProblems));
        return app;
    }

    /// <summary>YARP answers a failed forward with an empty 502/503/504; clients get a problem instead.</summary>
    private static async Task WriteForwarderErrorsAsProblems(HttpContext context, Func<Task> next)
    {
        await next();
        var error = context.GetForwarderErrorFeature();
        if (error is null || context.Response.HasStarted)
        {
            return;
        }

        var (status, code, detail) = error.Error switch
        {
            ForwarderError.NoAvailableDestinations => (503, UpstreamUnavailable,
                "No instance of the document service is available right now. Retry in a few seconds."),
            ForwarderError.RequestTimedOut => (504, UpstreamTimeout,
                "The document service did not answer in time. Retry; if it persists, check the service's health."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled => (400, "request_aborted",
                "The request body could not be read from the client. Send the request again."),
            _ => (502, UpstreamFailed,
                "The document service could not be reached or failed while answering. Retry in a few seconds."),
        };
        context.Response.Clear();
        await ApiProblem.Result(status, code, "The request could not be forwarded", detail,
            retryable: status != 400, retryAfter: status == 400 ? null : TimeSpan.FromSeconds(2)).ExecuteAsync(context);
    }
}
