using Microsoft.AspNetCore.Routing.Template;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.ApiReference;

/// <summary>
/// Which cluster the gateway forwards a request to, from YARP's route configuration: the route with the lowest Order
/// whose path template and methods match, ties broken by route precedence (the more specific template first).
/// Used to keep, of each service's document, only the operations the gateway really routes to that service.
/// </summary>
internal sealed partial class GatewayRoutes(IProxyConfigProvider config)
{
    /// <summary>The cluster id for <paramref name="method"/> on an OpenAPI path (its {parameters} stand for any segment), or null.</summary>
    public string? ClusterFor(string method, string openApiPath)
    {
        var sample = new PathString(Parameter().Replace(openApiPath, "1"));
        return config.GetConfig().Routes
            .Where(route => route.Match.Path is not null && AllowsMethod(route, method))
            .Select(route => (Route: route, Template: TemplateParser.Parse(route.Match.Path!)))
            .Where(r => new TemplateMatcher(r.Template, []).TryMatch(sample, []))
            .OrderBy(r => r.Route.Order ?? 0)
            .ThenBy(r => RoutePrecedence.ComputeInbound(r.Template))
            .Select(r => r.Route.ClusterId)
            .FirstOrDefault();
    }

    /// <summary>The cluster ids the configuration declares.</summary>
    public IReadOnlySet<string> Clusters() => config.GetConfig().Clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static bool AllowsMethod(RouteConfig route, string method) =>
        route.Match.Methods is not { Count: > 0 } methods || methods.Contains(method, StringComparer.OrdinalIgnoreCase);

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}/]+\}")]
    private static partial System.Text.RegularExpressions.Regex Parameter();
}
