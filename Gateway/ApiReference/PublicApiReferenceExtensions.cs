using System.Text.Json.Nodes;
using Gateway.ApiReference;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using Suite.ServiceDefaults.Http;
using Suite.ServiceDefaults.OpenApi;
using Suite.ServiceDefaults.Problems;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The public API's documentation at the gateway: GET /openapi/v1.json, the services' documents merged (only what the
/// gateway routes, servers = the gateway), and the browsable reference at /docs/ (Scalar, its script served from the
/// package: no CDN, no web fonts, no telemetry).
/// </summary>
public static class PublicApiReferenceExtensions
{
    public static IHostApplicationBuilder AddPublicApiReference(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<PublicApiOptions>()
            .Bind(builder.Configuration.GetSection(PublicApiOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PublicApiOptions>, PublicApiOptionsValidation>();
        builder.Services.AddSingleton<GatewayRoutes>();
        builder.Services.AddSingleton<PublicApiDocument>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Timeouts and retries: Resilience:public-api-documents (appsettings.json), so a black-holed service cannot hold the page.
        builder.Services.AddHttpClient(PublicApiDocument.ClientName).AddDependencyResilience();
        return builder;
    }

    public static WebApplication MapPublicApiReference(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet(PublicApiPaths.Document, WriteDocumentAsync).ExcludeFromDescription();

        var settings = app.Services.GetRequiredService<IOptions<PublicApiOptions>>().Value;
        app.MapScalarApiReference(PublicApiPaths.Reference, options => options
            .WithTitle(settings.Title)
            .WithOpenApiRoutePattern(PublicApiPaths.Document)
            .AddPreferredSecuritySchemes(PublicApi.ApiKeyScheme)
            // Every service's operations listed open, not only the first tag's: the reader sees the whole API at once.
            .ExpandAllTags()
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent());
        return app;
    }

    private static async Task<IResult> WriteDocumentAsync(HttpContext context, PublicApiDocument documents)
    {
        var snapshot = await documents.GetAsync(context.RequestAborted);
        if (snapshot.Document is null)
        {
            return ApiProblem.Result(503, "api_description_unavailable", "API description unavailable",
                $"The gateway could not fetch the API description of {string.Join(" and ", snapshot.Missing)} and has no earlier copy, " +
                "so it cannot describe the whole API. Retry in a few seconds; if it persists, check that service's health.",
                retryable: true, retryAfter: TimeSpan.FromSeconds(5),
                extensions: new Dictionary<string, object?> { ["missing"] = snapshot.Missing });
        }

        // The servers are the gateway as this client reached it.
        var document = new JsonObject();
        foreach (var (name, value) in snapshot.Document)
        {
            document[name] = value?.DeepClone();
            if (name == "info")
            {
                document["servers"] = new JsonArray(new JsonObject { ["url"] = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}" });
            }
        }

        return Results.Text(document.ToJsonString(), "application/json; charset=utf-8");
    }
}
