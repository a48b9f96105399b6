using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public static partial class GatewayApiKeyExtensions
{
    public const string ApiKeyParameter = "gateway-api-key";

    /// <summary>The documented development key, used when the parameter is not set.</summary>
    public const string DevelopmentKey = "suite-dev-key";

    /// <summary>The client name the local key is known by in the gateway's logs and metrics.</summary>
    public const string LocalClientName = "local";

    /// <summary>
    /// The gateway's API key from the parameter <c>gateway-api-key</c> (user secrets or <c>Parameters:gateway-api-key</c>),
    /// else the development key; passed to the gateway as a secret. When the gateway is ready the AppHost prints its URL
    /// with the key to use (the development key in full; a configured key only by where it comes from).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGatewayApiKey(this IResourceBuilder<ProjectResource> gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var app = gateway.ApplicationBuilder;
        var configured = app.Configuration[$"Parameters:{ApiKeyParameter}"];
        var usesDevelopmentKey = string.IsNullOrWhiteSpace(configured);
        var key = app.AddParameter(ApiKeyParameter, () => usesDevelopmentKey ? DevelopmentKey : configured!, secret: true);
        gateway.WithEnvironment("Gateway__ApiKeys__0__Name", LocalClientName)
            .WithEnvironment("Gateway__ApiKeys__0__Key", key);

        app.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, (ready, _) =>
        {
            var logger = ready.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Suite.Gateway");
            var url = gateway.GetEndpoint("http").Url;
            if (usesDevelopmentKey)
            {
                LogDevelopmentKey(logger, url, DevelopmentKey, ApiKeyParameter);
            }
            else
            {
                LogConfiguredKey(logger, url, ApiKeyParameter);
            }

            return Task.CompletedTask;
        });
        return gateway;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Gateway ready at {Url} - send the header X-Api-Key: {Key} (the development key; set the parameter {Parameter} for your own)")]
    private static partial void LogDevelopmentKey(ILogger logger, string url, string key, string parameter);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Gateway ready at {Url} - send the header X-Api-Key with the key set in the parameter {Parameter}")]
    private static partial void LogConfiguredKey(ILogger logger, string url, string parameter);
}
