using System.Diagnostics;
using System.Net;
using IngestService.Sources;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Resilience;

namespace Microsoft.Extensions.Hosting;

internal static class SourceExtensions
{
    /// <summary>
    /// URL uploads (section <c>Sources</c>, validated at start-up): the address guard with its allow-list, and the
    /// <see cref="UrlFetcher.ClientName"/> HttpClient, whose handler follows no redirect, uses no proxy, keeps no cookie,
    /// decompresses nothing, bounds the response headers, and connects only to vetted addresses; its resilience pipeline
    /// is <see cref="UrlSourceResilience"/>.
    /// </summary>
    public static TBuilder AddUrlSources<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<SourceOptions>()
            .Bind(builder.Configuration.GetSection(SourceOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SourceOptions>, SourceOptionsValidation>();
        services.AddResilienceTelemetry();
        services.AddSingleton<SourceAllowList>();
        services.AddSingleton<SourceAddressGuard>();
        services.AddSingleton<VettedConnector>();
        services.AddSingleton<UrlFetcher>();
        services.AddSingleton<UrlUpload>();

        services.AddHttpClient(UrlFetcher.ClientName, http =>
            {
                // The pipeline's attempt timeout and the fetcher's deadline own every timeout; HttpClient's 100 s would race them.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("Suite-IngestService/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(CreateHandler)
            .AddResilienceHandler(UrlFetcher.Dependency, UrlSourceResilience.Configure);

        // Service discovery, added to every client by the service defaults, would turn a URL naming a suite service
        // ("http://ingest/") into that service's address: a client's URL is never a service name. Its handler type is
        // internal, hence the name; the connect callback would refuse the address it resolved to all the same.
        services.AddHttpClient(UrlFetcher.ClientName)
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                foreach (var resolving in handlers.Where(IsServiceDiscovery).ToList())
                {
                    handlers.Remove(resolving);
                }
            });
        return builder;
    }

    /// <summary>The service discovery handler (Microsoft.Extensions.ServiceDiscovery's ResolvingHttpDelegatingHandler).</summary>
    internal static bool IsServiceDiscovery(DelegatingHandler handler) =>
        handler.GetType().FullName == "Microsoft.Extensions.ServiceDiscovery.Http.ResolvingHttpDelegatingHandler";

    private static SocketsHttpHandler CreateHandler(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<SourceOptions>>().Value;
        return new SocketsHttpHandler
        {
            ConnectCallback = services.GetRequiredService<VettedConnector>().ConnectAsync,
            ConnectTimeout = options.ConnectTimeout,
            // Redirects are followed by the fetcher, each target checked like the first URL.
            AllowAutoRedirect = false,
            // A proxy would make the connection somewhere else than the vetted address.
            UseProxy = false,
            UseCookies = false,
            // The size limit counts the bytes that arrive; a compressed body would be a bomb to unpack.
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseHeadersLength = options.MaxResponseHeadersKilobytes,
            // Remotes are many and seldom asked twice: connections are not kept long.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15),
            // The suite's trace context is its own business, not a remote's.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
        };
    }
}
