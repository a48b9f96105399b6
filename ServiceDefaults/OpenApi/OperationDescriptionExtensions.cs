using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Request options an endpoint reads by hand (from HttpContext) rather than by binding, so the generator cannot see
/// them, and descriptions of the ones it can: added to the endpoint's OpenAPI operation.
/// </summary>
public static class OperationDescriptionExtensions
{
    /// <summary>An optional (or required) query parameter; <paramref name="allowed"/> lists its values when it is an enumeration.</summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, string description, params string[] allowed) =>
        builder.WithParameter(ParameterLocation.Query, name, description, required: false, _ => Strings(allowed));

    /// <summary>
    /// An optional query parameter that is a whole number from <paramref name="minimum"/> to the <paramref name="maximum"/>
    /// the application is configured with.
    /// </summary>
    public static RouteHandlerBuilder WithIntegerQueryParameter(
        this RouteHandlerBuilder builder, string name, string description, int minimum, Func<IServiceProvider, int> maximum)
    {
        ArgumentNullException.ThrowIfNull(maximum);
        return builder.WithParameter(ParameterLocation.Query, name, description, required: false, services => new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Format = "int32",
            Minimum = minimum.ToString(CultureInfo.InvariantCulture),
            Maximum = maximum(services).ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>An optional request header.</summary>
    public static RouteHandlerBuilder WithHeaderParameter(this RouteHandlerBuilder builder, string name, string description) =>
        builder.WithParameter(ParameterLocation.Header, name, description, required: false, _ => new OpenApiSchema { Type = JsonSchemaType.String });

    /// <summary>A multipart/form-data body with one required file part (read by hand, so not inferred; not Accepts, see <see cref="AcceptsJsonObject"/>).</summary>
    public static RouteHandlerBuilder AcceptsFilePart(this RouteHandlerBuilder builder, string partName, string description)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string>(StringComparer.Ordinal) { partName },
                            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                            {
                                [partName] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = description },
                            },
                        },
                    },
                },
            };
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// A JSON object body the endpoint parses by hand. Declared here rather than with Accepts, whose metadata would
    /// also make routing refuse other content types with 415.
    /// </summary>
    public static RouteHandlerBuilder AcceptsJsonObject(this RouteHandlerBuilder builder, string description)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/json"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                },
            };
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Adds the parameter, or, when the generator already inferred it (bound from the handler's signature), sets its
    /// description and schema, so the operation never lists it twice.
    /// </summary>
    private static RouteHandlerBuilder WithParameter(
        this RouteHandlerBuilder builder, ParameterLocation location, string name, string description, bool required, Func<IServiceProvider, OpenApiSchema> schema)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            var described = schema(context.ApplicationServices);
            operation.Parameters ??= [];
            if (operation.Parameters.OfType<OpenApiParameter>().FirstOrDefault(p => p.In == location && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { } inferred)
            {
                inferred.Description = description;
                inferred.Schema = described;
                inferred.Required |= required;
                return Task.CompletedTask;
            }

            operation.Parameters.Add(new OpenApiParameter { Name = name, In = location, Required = required, Description = description, Schema = described });
            return Task.CompletedTask;
        });
    }

    private static OpenApiSchema Strings(string[] allowed) => new()
    {
        Type = JsonSchemaType.String,
        Enum = allowed.Length == 0 ? null : allowed.Select(JsonNode (a) => JsonValue.Create(a)).ToList(),
    };
}
