using System.ComponentModel.DataAnnotations;

namespace Gateway.ApiReference;

/// <summary>The public API document the gateway merges from the services (section <c>PublicApi</c>).</summary>
internal sealed class PublicApiOptions
{
    public const string Section = "PublicApi";

    /// <summary>
    /// Cluster id (of ReverseProxy:Clusters) → URL of that service's OpenAPI document, resolved through service
    /// discovery like the proxy's destinations. The merged document keeps of each only what the gateway routes to that cluster.
    /// </summary>
    [Required(ErrorMessage = "PublicApi:Sources must name at least one service document.")]
    [MinLength(1, ErrorMessage = "PublicApi:Sources must name at least one service document.")]
    public Dictionary<string, Uri> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long a merged document is served before the services are asked again.</summary>
    [Range(1, 3600, ErrorMessage = "PublicApi:CacheSeconds must be from 1 to 3600.")]
    public int CacheSeconds { get; set; } = 30;

    /// <summary>How long a failed attempt to build the document is remembered before the services are asked again.</summary>
    [Range(1, 3600, ErrorMessage = "PublicApi:FailureCacheSeconds must be from 1 to 3600.")]
    public int FailureCacheSeconds { get; set; } = 2;

    [Required(AllowEmptyStrings = false, ErrorMessage = "PublicApi:Title must not be empty.")]
    public string Title { get; set; } = "Document processing suite API";

    [Required(AllowEmptyStrings = false, ErrorMessage = "PublicApi:Description must not be empty.")]
    public string Description { get; set; } =
        "Upload documents (PDF, images, DOCX, PPTX, HTML, Markdown), follow their processing, fetch their results and chunks, export them to Label Studio and read the annotations. " +
        "Every request needs the API key (X-Api-Key header, or Authorization: Bearer); every error is application/problem+json " +
        "with a stable code.";
}
