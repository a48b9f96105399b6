namespace Suite.ServiceDefaults.OpenApi;

/// <summary>
/// The names the public API is described with, shared by the services that describe it and the gateway that serves
/// it: the route prefix that makes an endpoint public, the document's name and path, and how a client authenticates.
/// </summary>
public static class PublicApi
{
    /// <summary>Only endpoints under this prefix are public (the gateway routes nothing else); /internal, health and metrics are not.</summary>
    public const string Prefix = "/api";

    /// <summary>The name of the public OpenAPI document, in its path.</summary>
    public const string DocumentName = "v1";

    /// <summary>Where a service (and the gateway, for the merged document) serves the public OpenAPI document.</summary>
    public const string DocumentPath = "/openapi/" + DocumentName + ".json";

    /// <summary>The header that carries the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Security scheme: the key in <see cref="ApiKeyHeader"/>.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>Security scheme: the same key as <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>Whether an ApiExplorer relative path (no leading slash, e.g. <c>api/documents/{id}</c>) is public.</summary>
    public static bool IsPublicPath(string? relativePath) =>
        relativePath is not null &&
        (relativePath.Equals(Prefix[1..], StringComparison.OrdinalIgnoreCase) ||
         relativePath.StartsWith(Prefix[1..] + "/", StringComparison.OrdinalIgnoreCase));
}
