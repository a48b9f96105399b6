using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Suite.ServiceDefaults.Problems;

namespace Suite.ServiceDefaults.OpenApi;

/// <summary>
/// The problem responses of an operation: each declared one (ProducesApiProblem) described with the codes it can
/// carry (in its description and in x-problem-codes), and 500 internal_error on every operation, as unhandled
/// exceptions are answered centrally.
/// </summary>
internal sealed class ProblemResponses : IOpenApiOperationTransformer
{
    private const string InternalError = "internal_error";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Responses ??= [];
        var declared = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiProblemResponses.ApiProblemResponse>().ToList();
        foreach (var problem in declared)
        {
            var status = problem.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.TryGetValue(status, out var response) && response is OpenApiResponse described)
            {
                WithCodes(described, problem.StatusCode, WithInternalError(problem));
            }
        }

        if (!operation.Responses.ContainsKey("500"))
        {
            operation.Responses["500"] = WithCodes(new OpenApiResponse
            {
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    [ApiProblem.ContentType] = new() { Schema = await ProblemReferenceAsync(context, cancellationToken) },
                },
            }, 500, [InternalError]);
        }
    }

    private static OpenApiResponse WithCodes(OpenApiResponse response, int status, IReadOnlyCollection<string> codes)
    {
        response.Description = ApiProblemResponses.Describe(status, codes);
        response.Extensions ??= new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal);
        response.Extensions[ApiProblemResponses.CodesExtension] = new JsonNodeExtension(new JsonArray([.. codes.Select(c => JsonValue.Create(c))]));
        return response;
    }

    private static IReadOnlyCollection<string> WithInternalError(ApiProblemResponses.ApiProblemResponse problem) =>
        problem.StatusCode == 500 && !problem.Codes.Contains(InternalError) ? [.. problem.Codes, InternalError] : problem.Codes;

    private static async Task<IOpenApiSchema> ProblemReferenceAsync(OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        const string id = nameof(ProblemDetails);
        var document = context.Document ?? throw new InvalidOperationException("The operation has no document.");
        if (document.Components?.Schemas?.ContainsKey(id) != true)
        {
            document.AddComponent(id, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: cancellationToken));
        }

        return new OpenApiSchemaReference(id, document);
    }
}
