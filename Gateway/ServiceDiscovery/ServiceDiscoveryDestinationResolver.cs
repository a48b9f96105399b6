using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Gateway.ServiceDiscovery;

/// <summary>
/// Expands YARP destinations whose address is a logical service name (e.g. <c>http://ingest</c>) into one
/// destination per endpoint that Microsoft.Extensions.ServiceDiscovery resolves for it (from the AppHost's
/// <c>services__ingest__http__N</c> variables, or DNS under Kubernetes). YARP then load-balances and
/// health-checks the expanded list, and re-resolves when the endpoints change.
/// </summary>
internal sealed class ServiceDiscoveryDestinationResolver(ServiceEndpointResolver resolver) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var changeTokens = new List<IChangeToken>();
        foreach (var (id, destination) in destinations)
        {
            var address = new Uri(destination.Address);
            var serviceName = address.GetLeftPart(UriPartial.Authority);
            var source = await resolver.GetEndpointsAsync(serviceName, cancellationToken);
            changeTokens.Add(source.ChangeToken);

            var preferredScheme = address.Scheme.Split('+')[0];
            foreach (var endpoint in source.Endpoints)
            {
                var baseUri = ToUri(endpoint.ToString() ?? string.Empty, preferredScheme);
                var expanded = new UriBuilder(baseUri) { Path = address.AbsolutePath }.Uri;
                resolved[$"{id}[{baseUri.Authority}]"] = destination with
                {
                    Address = expanded.ToString(),
                    Health = destination.Health is null ? null : Rebase(destination.Health, baseUri),
                };
            }
        }

        return new ResolvedDestinationCollection(resolved, new CompositeChangeToken(changeTokens));
    }

    /// <summary>An endpoint is either a full URI (from configuration) or host:port (from DNS).</summary>
    internal static Uri ToUri(string endpoint, string defaultScheme)
    {
        if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        return new Uri($"{defaultScheme}://{endpoint}");
    }

    private static string Rebase(string healthAddress, Uri baseUri)
    {
        var health = new Uri(healthAddress);
        return new UriBuilder(health) { Scheme = baseUri.Scheme, Host = baseUri.Host, Port = baseUri.Port }.Uri.ToString();
    }
}
