using Gateway.FrontDoor;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Microsoft.Extensions.Hosting;

public static class DocumentProxyExtensions
{
    /// <summary>Header carrying the authenticated client's name to the services (set by the gateway only).</summary>
    public const string ClientHeader = "X-Suite-Client";

    /// <summary>The problems the gateway itself answers on any proxied route (also declared in the public API document).</summary>
    internal static readonly IReadOnlyList<(int Status, string Code)> ForwarderProblems =
        [(502, UpstreamFailed), (503, UpstreamUnavailable), (504, UpstreamTimeout)];

    private const string UpstreamFailed = "upstream_failed";
    private const string UpstreamUnavailable = "upstream_unavailable";
    private const string UpstreamTimeout = "upstream_timeout";

    /// <summary>
    /// YARP with routes and clusters from the ReverseProxy configuration section; cluster addresses are logical service
    /// names resolved through service discovery. Only public API routes are configured, so the services' internal
    /// endpoints are unreachable through the gateway. On routes that require a key, the key never travels further: it is
    /// removed and the client's name is passed on instead.
    /// </summary>
    public static IHostApplicationBuilder AddDocumentProxy(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms(context =>
            {
                // A client cannot claim an identity: whatever it sent in the client header is dropped on every route.
                context.AddRequestHeaderRemove(ClientHeader);
                if (context.Route.AuthorizationPolicy == FrontDoorExtensions.ApiKeyPolicy)
                {
                    context.AddRequestHeaderRemove(ApiKeyAuthenticationHandler.HeaderName);
                    context.AddRequestHeaderRemove("Authorization");
                    context.AddRequestTransform(transform =>
                    {
                        if (transform.HttpContext.User.Identity?.Name is { } client)
                        {
                            transform.ProxyRequest.Headers.TryAddWithoutValidation(ClientHeader, client);
                        }

                        // A browser WebSocket's key travels as an offered subprotocol: forward the others only.
                        var offered = transform.HttpContext.Request.Headers.SecWebSocketProtocol.ToString();
                        if (WebSocketKeyProtocol.CarriesKey(offered))
                        {
                            transform.ProxyRequest.Headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.SecWebSocketProtocol);
                            if (WebSocketKeyProtocol.WithoutKey(offered) is { } rest)
                            {
                                transform.ProxyRequest.Headers.TryAddWithoutValidation(Microsoft.Net.Http.Headers.HeaderNames.SecWebSocketProtocol, rest);
                            }
                        }

                        return ValueTask.CompletedTask;
                    });
                }
            });
        return builder;
    }

    public static WebApplication MapDocumentProxy(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapReverseProxy(proxy => proxy.Use(WriteForwarderErrorsAsProblems));
        return app;
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
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

        if (IsBodyTooLarge(error.Exception))
        {
            // The route's MaxRequestBodySize, enforced by Kestrel while the body streams through.
            context.Response.Clear();
            await GatewayProblems.BodyTooLarge(context.GetEndpoint()?.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>()?.Config.MaxRequestBodySize)
                .ExecuteAsync(context);
            return;
        }

        var (status, code, detail) = error.Error switch
        {
            ForwarderError.NoAvailableDestinations => (503, UpstreamUnavailable,
                "No instance of the service behind this route is available right now. Retry in a few seconds."),
            ForwarderError.RequestTimedOut => (504, UpstreamTimeout,
                "The service behind this route did not answer in time. Retry; if it persists, check the service's health."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled => (400, "request_aborted",
                "The request body could not be read from the client. Send the request again."),
            _ => (502, UpstreamFailed,
                "The service behind this route could not be reached or failed while answering. Retry in a few seconds."),
        };
        context.Response.Clear();
        await GatewayProblems.ForwardFailed(status, code, detail, retryable: status != 400).ExecuteAsync(context);
    }
}
