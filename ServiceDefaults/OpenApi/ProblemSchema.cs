using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Suite.ServiceDefaults.OpenApi;

/// <summary>
/// The ProblemDetails schema with the members every problem of the suite carries (see ApiProblem): a stable code,
/// whether retrying can help, the suggested delay and the trace id.
/// </summary>
internal sealed class ProblemSchema : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type != typeof(ProblemDetails) || context.JsonPropertyInfo is not null)
        {
            return Task.CompletedTask;
        }

        schema.Description = "An RFC 9457 problem (application/problem+json). Clients act on `code`, never on `title` or `detail`.";
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        schema.Properties["code"] = Property(JsonSchemaType.String, "Stable machine-readable error code, e.g. document_not_found.");
        schema.Properties["retryable"] = Property(JsonSchemaType.Boolean, "Whether sending the same request again later can succeed.");
        schema.Properties["retryAfterSeconds"] = Property(JsonSchemaType.Integer, "Seconds to wait before retrying (also in the Retry-After header); only where it applies.");
        schema.Properties["traceId"] = Property(JsonSchemaType.String, "The W3C trace id of the request, to quote when reporting the error.");
        schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
        schema.Required.Add("code");
        schema.Required.Add("retryable");
        return Task.CompletedTask;
    }

    private static OpenApiSchema Property(JsonSchemaType type, string description) => new() { Type = type, Description = description };
}
