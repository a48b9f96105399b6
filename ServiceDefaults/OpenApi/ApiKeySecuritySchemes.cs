using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Suite.ServiceDefaults.OpenApi;

/// <summary>
/// Declares how a client authenticates at the gateway: the API key in the X-Api-Key header, or the same key as a
/// bearer token; either one satisfies every operation.
/// </summary>
internal sealed class ApiKeySecuritySchemes : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[PublicApi.ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = PublicApi.ApiKeyHeader,
            Description = $"The API key in the {PublicApi.ApiKeyHeader} header.",
        };
        document.Components.SecuritySchemes[PublicApi.BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The same API key as a bearer token: Authorization: Bearer <key>.",
        };

        // Two requirements = alternatives: either scheme is enough.
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(PublicApi.ApiKeyScheme, document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(PublicApi.BearerScheme, document)] = [] },
        ];
        return Task.CompletedTask;
    }
}
