using Microsoft.Extensions.Options;

namespace Gateway.ApiReference;

/// <summary>Each source is a cluster the proxy knows, with an absolute http(s) URL: checked at start-up.</summary>
internal sealed class PublicApiOptionsValidation(GatewayRoutes routes) : IValidateOptions<PublicApiOptions>
{
    public ValidateOptionsResult Validate(string? name, PublicApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clusters = routes.Clusters();
        var failures = new List<string>();
        foreach (var (cluster, url) in options.Sources)
        {
            if (!clusters.Contains(cluster))
            {
                failures.Add($"PublicApi:Sources:{cluster} names no cluster of ReverseProxy:Clusters ({string.Join(", ", clusters)}).");
            }

            if (url is not { IsAbsoluteUri: true } || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"PublicApi:Sources:{cluster} must be an absolute http or https URL, such as http://{cluster}/openapi/v1.json; it is '{url}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
