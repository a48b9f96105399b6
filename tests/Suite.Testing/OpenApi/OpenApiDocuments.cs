using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Xunit;

namespace Suite.Testing.OpenApi;

/// <summary>
/// Reads an OpenAPI document with Microsoft.OpenApi's reader (the object model Microsoft.AspNetCore.OpenApi writes)
/// and compares it with what an application really routes.
/// </summary>
public static partial class OpenApiDocuments
{
    public const string ProblemContentType = "application/problem+json";

    /// <summary>Parses the JSON as OpenAPI 3, failing on any reader diagnostic error or validation error.</summary>
    public static OpenApiDocument Parse(string json)
    {
        var read = OpenApiDocument.Parse(json, "json");
        Assert.True(read.Diagnostic is not null, "the reader gave no diagnostic");
        Assert.True(read.Diagnostic!.Errors.Count == 0,
            "reader errors: " + string.Join("; ", read.Diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.True(read.Document is not null, "no document");
        Assert.True(read.Diagnostic.SpecificationVersion is OpenApiSpecVersion.OpenApi3_0 or OpenApiSpecVersion.OpenApi3_1,
            $"not OpenAPI 3: {read.Diagnostic.SpecificationVersion}");
        var invalid = read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];
        Assert.True(invalid.Count == 0, "validation errors: " + string.Join("; ", invalid.Select(e => $"{e.Pointer}: {e.Message}")));
        return read.Document;
    }

    /// <summary>Every (METHOD, path) the document describes, the path as written in the document.</summary>
    public static SortedSet<string> Operations(OpenApiDocument document) =>
        new(All(document).Select(o => $"{o.Method} {o.Path}"), StringComparer.Ordinal);

    /// <summary>
    /// Every (METHOD, path) the application routes under <paramref name="prefix"/>, from its EndpointDataSource, with
    /// route constraints left out as OpenAPI paths leave them out (<c>{page:int}</c> is <c>{page}</c>).
    /// </summary>
    public static SortedSet<string> RoutedOperations(IServiceProvider services, string prefix)
    {
        var routed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText?.Trim('/');
            if (!pattern.Equals(prefix, StringComparison.Ordinal) && !pattern.StartsWith(prefix + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var path = Constraint().Replace(pattern, "{${name}}");
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
            {
                routed.Add($"{method} {path}");
            }
        }

        return routed;
    }

    /// <summary>The operations of the document, each with its method and path.</summary>
    public static IEnumerable<(string Method, string Path, OpenApiOperation Operation)> All(OpenApiDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                yield return (method.Method.ToUpperInvariant(), path, operation);
            }
        }
    }

    /// <summary>
    /// Every operation has an id, a summary, a success response, and a problem+json response with the ProblemDetails
    /// schema (code, retryable) for each error status it declares, 500 among them, each naming its codes.
    /// </summary>
    public static void AssertDescribed(OpenApiDocument document)
    {
        foreach (var (method, path, operation) in All(document))
        {
            var name = $"{method} {path}";
            Assert.False(string.IsNullOrWhiteSpace(operation.OperationId), $"{name} has no operationId");
            Assert.False(string.IsNullOrWhiteSpace(operation.Summary), $"{name} has no summary");
            var responses = operation.Responses ?? [];
            // A success, or 101 Switching Protocols for a WebSocket endpoint.
            Assert.Contains(responses.Keys, status => status.StartsWith('2') || status == "101");
            Assert.Contains("500", responses.Keys);
            foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
            {
                Assert.True(response.Content?.ContainsKey(ProblemContentType) == true, $"{name} {status} is not {ProblemContentType}");
                var schema = response.Content![ProblemContentType].Schema;
                Assert.True(schema is OpenApiSchemaReference { Reference.Id: "ProblemDetails" }, $"{name} {status} does not use the ProblemDetails schema");
                Assert.Contains("code", schema!.Properties?.Keys ?? []);
                Assert.Contains("retryable", schema.Properties?.Keys ?? []);
                var codes = ProblemCodes(response);
                Assert.True(codes.Count > 0, $"{name} {status} names no problem code");
                Assert.All(codes, code => Assert.Contains($"`{code}`", response.Description ?? "", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>The stable codes a problem response declares (extension x-problem-codes).</summary>
    public static IReadOnlyList<string> ProblemCodes(IOpenApiResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Extensions is { } extensions && extensions.TryGetValue("x-problem-codes", out var extension)
               && extension is JsonNodeExtension { Node: System.Text.Json.Nodes.JsonArray codes }
            ? [.. codes.Select(c => c!.GetValue<string>())]
            : [];
    }

    /// <summary>The parameter of an operation by location and name, or a failed assertion.</summary>
    public static IOpenApiParameter Parameter(OpenApiOperation operation, ParameterLocation location, string name)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var found = (operation.Parameters ?? []).Where(p => p.In == location && p.Name == name).ToList();
        Assert.True(found.Count == 1, $"{found.Count} {location} parameters named {name}");
        return found[0];
    }

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z0-9_]+)(:[^}]*)?\??\}")]
    private static partial Regex Constraint();
}
