using Suite.ServiceDefaults.OpenApi;

namespace Gateway.ApiReference;

/// <summary>
/// Where the gateway serves the API's documentation: the merged OpenAPI document and the browsable reference (with
/// the script and assets it loads from under its prefix). These paths need no API key.
/// </summary>
public static class PublicApiPaths
{
    /// <summary>The merged public OpenAPI document.</summary>
    public const string Document = PublicApi.DocumentPath;

    /// <summary>The API reference (Scalar): the page at /docs/ and its assets under /docs/.</summary>
    public const string Reference = "/docs";

    /// <summary>Whether a request path is documentation (exempt from the API key): exactly the document, or /docs and below.</summary>
    public static bool IsDocumentation(PathString path) =>
        path.Equals(Document, StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(Reference, StringComparison.OrdinalIgnoreCase);
}
