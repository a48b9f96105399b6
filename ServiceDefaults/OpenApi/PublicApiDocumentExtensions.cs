using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.OpenApi;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A service's public OpenAPI document (Microsoft.AspNetCore.OpenApi): only endpoints under /api, the API-key security
/// schemes, the problem shape every error uses, and a 500 problem on every operation. The gateway merges these
/// documents into the one clients read.
/// </summary>
public static class PublicApiDocumentExtensions
{
    public static TBuilder AddPublicApiDocument<TBuilder>(this TBuilder builder, string title, string description)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOpenApi(PublicApi.DocumentName, options =>
        {
            var described = options.ShouldInclude;
            options.ShouldInclude = endpoint => described(endpoint) && PublicApi.IsPublicPath(endpoint.RelativePath);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = title;
                document.Info.Description = description;
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<ApiKeySecuritySchemes>();
            options.AddSchemaTransformer<ProblemSchema>();
            options.AddOperationTransformer<ProblemResponses>();
        });
        return builder;
    }

    /// <summary>Serves the document at <see cref="PublicApi.DocumentPath"/> (not routed by the gateway, which serves the merged one).</summary>
    public static IEndpointConventionBuilder MapPublicApiDocument(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.MapOpenApi("/openapi/{documentName}.json");
    }
}
