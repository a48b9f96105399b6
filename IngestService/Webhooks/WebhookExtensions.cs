using System.Diagnostics;
using System.Net;
using IngestService.Sources;
using IngestService.Webhooks;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;

namespace Microsoft.Extensions.Hosting;

internal static class WebhookExtensions
{
    /// <summary>
    /// Completion webhooks (section <c>Webhooks</c>, validated at start-up; after <c>AddUrlSources</c>, whose guard it
    /// shares): the subscriptions' start-up step, the outbox, the dispatcher, and the <see cref="WebhookSender.ClientName"/>
    /// HttpClient, which follows no redirect, uses no proxy, keeps no cookie, and connects only to vetted addresses.
    /// </summary>
    public static TBuilder AddWebhooks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<WebhookOptions>()
            .Bind(builder.Configuration.GetSection(WebhookOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidation>();
        services.AddSingleton<CallbackUrlCheck>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<WebhookPipelines>();
        services.AddSingleton<WebhookSender>();
        services.AddStartupStep<WebhookSubscriptions>();
        services.AddHostedService<WebhookDispatcher>();
        services.AddHealthChecks().AddCheck<WebhookHealthCheck>("webhooks", tags: [HealthExtensions.ReadyTag]);

        services.AddHttpClient(WebhookSender.ClientName, http =>
            {
                // Each attempt's timeout is the pipeline's; HttpClient's own would race it.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("Suite-IngestService-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                ConnectCallback = services.GetRequiredService<VettedConnector>().ConnectAsync,
                ConnectTimeout = services.GetRequiredService<IOptions<WebhookOptions>>().Value.ConnectTimeout,
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                MaxResponseHeadersLength = 32,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
            })
            // A callbackUrl is never a suite service name: service discovery (added to every client) is taken out.
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                foreach (var resolving in handlers.Where(SourceExtensions.IsServiceDiscovery).ToList())
                {
                    handlers.Remove(resolving);
                }
            });
        return builder;
    }
}
