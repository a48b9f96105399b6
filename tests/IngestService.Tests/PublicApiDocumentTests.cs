using System.Net;
using Microsoft.OpenApi;
using Suite.Testing.OpenApi;

namespace IngestService.Tests;

/// <summary>
/// The service's public OpenAPI document (GET /openapi/v1.json), read with Microsoft.OpenApi: valid OpenAPI 3, exactly
/// the endpoints the service routes under /api (none of /internal), and the request options and problems of each.
/// </summary>
[Collection("ingest")]
public sealed class PublicApiDocumentTests(IngestFixture fixture)
{
    private async Task<OpenApiDocument> DocumentAsync()
    {
        using var response = await fixture.Client.GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return OpenApiDocuments.Parse(text);
    }

    [Fact]
    public async Task The_document_lists_every_public_endpoint_with_its_methods_and_no_internal_one()
    {
        var document = await DocumentAsync();

        var described = OpenApiDocuments.Operations(document);
        var routed = OpenApiDocuments.RoutedOperations(fixture.Host.Services, "/api");
        Assert.Equal(routed, described);
        Assert.Contains("POST /api/documents", described);
        Assert.Contains("GET /api/documents/{id}/pages/{page}/image", described);
        Assert.Contains("GET /api/documents/{id}/webhooks", described);
        Assert.Contains("GET /api/webhooks/dead-letters", described);
        Assert.Contains("POST /api/webhooks/deliveries/{deliveryId}/redeliver", described);

        // The internal worker and artifact APIs exist, and are left out.
        Assert.NotEmpty(OpenApiDocuments.RoutedOperations(fixture.Host.Services, "/internal"));
        Assert.All(document.Paths.Keys, path => Assert.StartsWith("/api/", path + "/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_operation_is_named_summarised_and_declares_its_problems()
    {
        var document = await DocumentAsync();

        OpenApiDocuments.AssertDescribed(document);
        var get = document.Paths["/api/documents/{id}"].Operations![HttpMethod.Get];
        Assert.Equal("GetDocument", get.OperationId);
        Assert.Contains("`document_not_found`", get.Responses!["404"].Description, StringComparison.Ordinal);
        Assert.Contains("`storage_unavailable`", get.Responses["503"].Description, StringComparison.Ordinal);
        Assert.Contains("`internal_error`", get.Responses["500"].Description, StringComparison.Ordinal);
        Assert.True(get.Responses["200"].Content!["application/json"].Schema is OpenApiSchemaReference { Reference.Id: "DocumentDetail" });
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task The_chunks_endpoint_describes_its_parameters_media_type_and_problems()
    {
        var document = await DocumentAsync();

        var chunks = document.Paths["/api/documents/{id}/chunks"].Operations![HttpMethod.Get];
        Assert.Equal("GetDocumentChunks", chunks.OperationId);
        Assert.Equal(["id", "maxTokens", "overlapTokens", "strategy", "tokenizer"], chunks.Parameters!.Select(p => p.Name!).Order(StringComparer.Ordinal));
        Assert.Contains("application/x-ndjson", chunks.Responses!["200"].Content!.Keys);
        Assert.Contains("application/json", chunks.Responses["200"].Content!.Keys);
        Assert.Contains("`invalid_chunk_parameter`", chunks.Responses["400"].Description, StringComparison.Ordinal);
        Assert.Contains("`result_not_ready`", chunks.Responses["409"].Description, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    public async Task Batches_retention_and_deletion_are_described()
    {
        var document = await DocumentAsync();

        var batch = document.Paths["/api/batches"].Operations![HttpMethod.Post];
        Assert.Equal("UploadBatch", batch.OperationId);
        var form = batch.RequestBody!.Content!["multipart/form-data"].Schema!;
        Assert.Equal("binary", form.Properties!["file"].Items!.Format);
        Assert.Contains("retainFor", form.Properties.Keys);
        Assert.Contains("207", batch.Responses!.Keys);
        Assert.Contains("`too_many_files`", batch.Responses["400"].Description, StringComparison.Ordinal);
        Assert.Contains("`batch_too_large`", batch.Responses["413"].Description, StringComparison.Ordinal);
        Assert.Equal("GetBatch", document.Paths["/api/batches/{id}"].Operations![HttpMethod.Get].OperationId);

        var delete = document.Paths["/api/documents/{id}"].Operations![HttpMethod.Delete];
        Assert.Contains("204", delete.Responses!.Keys);
        Assert.Contains("`document_deleted`", delete.Responses["410"].Description, StringComparison.Ordinal);
        Assert.Contains("`document_expired`", document.Paths["/api/documents/{id}"].Operations![HttpMethod.Get].Responses!["410"].Description, StringComparison.Ordinal);
        Assert.Contains("`document_expired`", document.Paths["/api/documents/{id}/result"].Operations![HttpMethod.Get].Responses!["410"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_upload_describes_its_file_part_its_url_body_idempotency_key_and_priority()
    {
        var document = await DocumentAsync();

        var upload = document.Paths["/api/documents"].Operations![HttpMethod.Post];
        Assert.Equal("Upload a document for processing", upload.Summary);
        Assert.Equal(["application/json", "multipart/form-data"], upload.RequestBody!.Content!.Keys.Order(StringComparer.Ordinal));
        var body = upload.RequestBody.Content["multipart/form-data"].Schema!;
        Assert.Contains("file", body.Required ?? new HashSet<string>());
        Assert.Equal("binary", body.Properties!["file"].Format);
        var json = upload.RequestBody.Content["application/json"].Schema!;
        Assert.Equal(["url"], json.Required ?? new HashSet<string>());
        Assert.Equal(["callbackUrl", "chunks", "describePictures", "fileName", "images", "ocr", "ocrLanguages", "pageRange", "retainFor", "tables", "url"], json.Properties!.Keys.Order(StringComparer.Ordinal));
        // The pipeline options, the same as form fields beside the file and as JSON members beside the url.
        foreach (var schema in new[] { json, body })
        {
            Assert.Equal(["auto", "force", "off"], schema.Properties!["ocr"].Enum!.Select(v => v!.GetValue<string>()));
            Assert.Equal(["referenced", "embedded", "none"], schema.Properties["images"].Enum!.Select(v => v!.GetValue<string>()));
            Assert.Contains("GET /api/ocr/languages", schema.Properties["ocrLanguages"].Description, StringComparison.Ordinal);
        }

        Assert.Contains("`unknown_option`", upload.Responses!["400"].Description, StringComparison.Ordinal);
        Assert.Contains("`invalid_callback_url`", upload.Responses!["400"].Description, StringComparison.Ordinal);
        Assert.Contains("docs/webhooks.md", body.Properties!["callbackUrl"].Description, StringComparison.Ordinal);
        Assert.Equal("uri", json.Properties["url"].Format);
        Assert.False(json.AdditionalPropertiesAllowed);
        Assert.False(OpenApiDocuments.Parameter(upload, ParameterLocation.Header, "Idempotency-Key").Required);
        var priority = OpenApiDocuments.Parameter(upload, ParameterLocation.Query, "priority");
        Assert.False(priority.Required);
        Assert.Equal(["interactive", "batch"], priority.Schema!.Enum!.Select(v => v!.GetValue<string>()));
        Assert.True(upload.Responses!["202"].Content!["application/json"].Schema is OpenApiSchemaReference { Reference.Id: "UploadAccepted" });
        Assert.Equal(["400", "410", "413", "415", "422", "500", "502", "503", "504", "507"], upload.Responses.Keys.Where(k => k[0] is '4' or '5').Order(StringComparer.Ordinal));
        Assert.Contains("`url_forbidden`", upload.Responses["422"].Description, StringComparison.Ordinal);
        Assert.Contains("`url_timeout`", upload.Responses["504"].Description, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task The_ocr_languages_endpoint_is_described()
    {
        var document = await DocumentAsync();

        var languages = document.Paths["/api/ocr/languages"].Operations![HttpMethod.Get];
        Assert.Equal("ListOcrLanguages", languages.OperationId);
        Assert.True(languages.Responses!["200"].Content!["application/json"].Schema is OpenApiSchemaReference { Reference.Id: "OcrLanguagesView" });
    }

    [Fact]
    public async Task List_and_result_describe_their_query_options()
    {
        var document = await DocumentAsync();

        var list = document.Paths["/api/documents"].Operations![HttpMethod.Get];
        var limit = OpenApiDocuments.Parameter(list, ParameterLocation.Query, "limit").Schema!;
        Assert.Equal(JsonSchemaType.Integer, limit.Type);
        Assert.Equal("1", limit.Minimum);
        Assert.Equal("100", limit.Maximum);
        Assert.False(OpenApiDocuments.Parameter(list, ParameterLocation.Query, "cursor").Required);

        var result = document.Paths["/api/documents/{id}/result"].Operations![HttpMethod.Get];
        var format = OpenApiDocuments.Parameter(result, ParameterLocation.Query, "format").Schema!;
        Assert.Equal(["json", "markdown", "text", "html"], format.Enum!.Select(v => v!.GetValue<string>()));
        Assert.Equal(["application/json", "text/html", "text/markdown", "text/plain"], result.Responses!["200"].Content!.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("result_format_unavailable", result.Responses["404"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_key_schemes_are_declared_for_every_operation()
    {
        var document = await DocumentAsync();

        var schemes = document.Components!.SecuritySchemes!;
        Assert.Equal(SecuritySchemeType.ApiKey, schemes["ApiKey"].Type);
        Assert.Equal(ParameterLocation.Header, schemes["ApiKey"].In);
        Assert.Equal("X-Api-Key", schemes["ApiKey"].Name);
        Assert.Equal(SecuritySchemeType.Http, schemes["Bearer"].Type);
        Assert.Equal("bearer", schemes["Bearer"].Scheme);
        Assert.Equal(2, document.Security!.Count);
    }

}
