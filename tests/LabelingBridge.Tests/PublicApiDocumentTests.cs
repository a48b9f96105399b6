using System.Net;
using LabelingBridge.Tests.Infrastructure;
using Microsoft.OpenApi;
using Suite.Testing.OpenApi;

namespace LabelingBridge.Tests;

/// <summary>
/// The bridge's public OpenAPI document (GET /openapi/v1.json), read with Microsoft.OpenApi: valid OpenAPI 3, exactly
/// the endpoints the bridge routes under /api, each named, summarised and with its problems.
/// </summary>
public sealed class PublicApiDocumentTests
{
    [Fact]
    public async Task The_document_lists_every_public_endpoint_with_its_responses_and_problems()
    {
        await using var s = await Scenario.StartAsync();

        using var response = await s.Client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var document = OpenApiDocuments.Parse(text);

        var described = OpenApiDocuments.Operations(document);
        Assert.Equal(OpenApiDocuments.RoutedOperations(s.Bridge.Services, "/api"), described);
        Assert.Equal(
            [
                "GET /api/documents/{id}/annotations",
                "GET /api/documents/{id}/exports",
                "GET /api/exports/{exportId}",
                "POST /api/documents/{id}/exports/label-studio",
                "POST /api/labeling/webhooks/label-studio",
            ],
            described);
        OpenApiDocuments.AssertDescribed(document);

        var export = document.Paths["/api/documents/{id}/exports/label-studio"].Operations![HttpMethod.Post];
        Assert.True(export.Responses!["202"].Content!["application/json"].Schema is OpenApiSchemaReference { Reference.Id: "ExportView" });
        Assert.Contains("`label_studio_credentials_rejected`", export.Responses["503"].Description, StringComparison.Ordinal);
        var annotations = document.Paths["/api/documents/{id}/annotations"].Operations![HttpMethod.Get];
        Assert.True(annotations.Responses!["200"].Content!["application/json"].Schema is OpenApiSchemaReference { Reference.Id: "DocumentAnnotations" });
        var webhook = document.Paths["/api/labeling/webhooks/label-studio"].Operations![HttpMethod.Post];
        Assert.NotNull(webhook.RequestBody?.Content?["application/json"]);
        Assert.NotNull(OpenApiDocuments.Parameter(webhook, ParameterLocation.Header, "X-Suite-Webhook-Secret"));
        Assert.Contains("ApiKey", document.Components!.SecuritySchemes!.Keys);
    }
}
