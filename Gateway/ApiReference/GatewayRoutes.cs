using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Hosting;
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
    public string? ClusterFor(string method, string openApiPath) => RouteFor(method, openApiPath)?.ClusterId;

    /// <summary>
    /// The problems the gateway itself may answer for an operation: its path check, the route's key and rate limit and
    /// body limit where configured, and the forwarding failures.
    /// </summary>
    public IReadOnlyList<(int Status, string Code)> GatewayProblemsFor(string method, string openApiPath)
    {
        var route = RouteFor(method, openApiPath);
        List<(int, string)> problems = [(400, "invalid_path")];
        if (route?.AuthorizationPolicy == FrontDoorExtensions.ApiKeyPolicy)
        {
            problems.Add((401, "api_key_missing"));
            problems.Add((401, "api_key_invalid"));
        }

        if (route?.RateLimiterPolicy is not null)
        {
            problems.Add((429, "rate_limited"));
        }

        if (route?.MaxRequestBodySize is > 0)
        {
            problems.Add((413, "file_too_large"));
        }

        problems.AddRange(DocumentProxyExtensions.ForwarderProblems);
        return problems;
    }

    private RouteConfig? RouteFor(string method, string openApiPath)
    {
        var sample = new PathString(Parameter().Replace(openApiPath, "1"));
        return config.GetConfig().Routes
            .Where(route => route.Match.Path is not null && AllowsMethod(route, method))
            .Select(route => (Route: route, Template: TemplateParser.Parse(route.Match.Path!)))
            .Where(r => new TemplateMatcher(r.Template, []).TryMatch(sample, []))
            .OrderBy(r => r.Route.Order ?? 0)
            .ThenBy(r => RoutePrecedence.ComputeInbound(r.Template))
            .Select(r => r.Route)
            .FirstOrDefault();
    }

    /// <summary>The cluster ids the configuration declares.</summary>
    public IReadOnlySet<string> Clusters() => config.GetConfig().Clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static bool AllowsMethod(RouteConfig route, string method) =>
        route.Match.Methods is not { Count: > 0 } methods || methods.Contains(method, StringComparer.OrdinalIgnoreCase);

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}/]+\}")]
    private static partial System.Text.RegularExpressions.Regex Parameter();
}
