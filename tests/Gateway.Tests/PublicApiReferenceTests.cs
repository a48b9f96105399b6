using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Suite.Testing;
using Suite.Testing.OpenApi;

namespace Gateway.Tests;

/// <summary>
/// The gateway's public API document (GET /openapi/v1.json), merged from the documents two real backends serve:
/// only the operations the gateway routes to each, components united, servers = the gateway, cached briefly, and a
/// problem when a service's document was never available. And the reference page at /docs/ with its script from the
/// gateway itself.
/// </summary>
public sealed partial class PublicApiReferenceTests
{
    private const string ApiKey = TestGateway.Key;

    /// <summary>Ingest's document: public operations, one path the gateway sends to the bridge, internal and health paths.</summary>
    private static readonly string IngestDocument = Document(
        paths: new JsonObject
        {
            ["/api/documents"] = Item(("get", "ListDocuments", null), ("post", "UploadDocument", null)),
            ["/api/documents/{id}"] = Item(("get", "GetDocument", "Detail"), ("delete", "CancelDocument", "Detail")),
            ["/api/documents/{id}/exports"] = Item(("get", "ShadowedByTheBridge", null)),
            ["/internal/documents/{id}/claim"] = Item(("post", "ClaimDocument", null)),
            ["/health/live"] = Item(("get", "Live", null)),
        },
        schemas: new JsonObject
        {
            ["BoundingBox"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["x"] = new JsonObject { ["type"] = "number" } } },
            ["Detail"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["box"] = Ref("BoundingBox") } },
        });

    /// <summary>The bridge's document: its own BoundingBox (a different one), and a GET the gateway does not route (it routes POST webhooks).</summary>
    private static readonly string BridgeDocument = Document(
        paths: new JsonObject
        {
            ["/api/documents/{id}/exports"] = Item(("get", "ListDocumentExports", null)),
            ["/api/documents/{id}/annotations"] = Item(("get", "ListDocumentAnnotations", "Annotation")),
            ["/api/exports/{exportId}"] = Item(("get", "GetExport", null)),
            ["/api/labeling/webhooks/label-studio"] = Item(("post", "ReceiveLabelStudioWebhook", null), ("get", "NotRouted", null)),
        },
        schemas: new JsonObject
        {
            ["BoundingBox"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["left"] = new JsonObject { ["type"] = "number" } } },
            ["Annotation"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["box"] = Ref("BoundingBox") } },
        });

    private static WebApplicationFactory<Program> GatewayFor(Uri ingest, Uri bridge, ManualTime? time = null) =>
        TestGateway.Create([ingest], bridge).WithWebHostBuilder(web =>
        {
            if (time is not null)
            {
                web.ConfigureServices(services => services.AddSingleton<TimeProvider>(time));
            }
        });

    private static HttpClient ClientOf(WebApplicationFactory<Program> gateway)
    {
        var client = gateway.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    private static async Task<(RecordingBackend Ingest, RecordingBackend Bridge)> ServicesAsync()
    {
        var ingest = await RecordingBackend.StartAsync("ingest-0");
        var bridge = await RecordingBackend.StartAsync("bridge-0");
        ingest.Json["/openapi/v1.json"] = IngestDocument;
        bridge.Json["/openapi/v1.json"] = BridgeDocument;
        return (ingest, bridge);
    }

    [Fact]
    public async Task The_merged_document_is_valid_OpenAPI_3_with_exactly_the_operations_the_gateway_routes_to_each_service()
    {
        var (ingest, bridge) = await ServicesAsync();
        await using var ingestService = ingest;
        await using var bridgeService = bridge;
        await using var gateway = GatewayFor(ingest.Url, bridge.Url);
        using var client = ClientOf(gateway);

        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var document = OpenApiDocuments.Parse(text);
        Assert.Equal(
            [
                "DELETE /api/documents/{id}",
                "GET /api/documents",
                "GET /api/documents/{id}",
                "GET /api/documents/{id}/annotations",
                "GET /api/documents/{id}/exports",
                "GET /api/exports/{exportId}",
                "POST /api/documents",
                "POST /api/labeling/webhooks/label-studio",
            ],
            OpenApiDocuments.Operations(document));
        Assert.Equal("ListDocumentExports", document.Paths["/api/documents/{id}/exports"].Operations![HttpMethod.Get].OperationId);
        Assert.Equal("http://localhost", Assert.Single(document.Servers!).Url);

        // Two different BoundingBox schemas: the bridge's is renamed, and its references follow.
        using var json = JsonDocument.Parse(text);
        var schemas = json.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("BoundingBox").GetProperty("properties").TryGetProperty("x", out _));
        Assert.True(schemas.GetProperty("LabelingBridgeBoundingBox").GetProperty("properties").TryGetProperty("left", out _));
        Assert.Equal("#/components/schemas/LabelingBridgeBoundingBox", schemas.GetProperty("Annotation").GetProperty("properties").GetProperty("box").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/BoundingBox", schemas.GetProperty("Detail").GetProperty("properties").GetProperty("box").GetProperty("$ref").GetString());
        Assert.Equal(["ApiKey", "Bearer"], json.RootElement.GetProperty("components").GetProperty("securitySchemes").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Every_operation_declares_the_problems_the_gateway_answers_itself_next_to_the_services_own()
    {
        var (ingest, bridge) = await ServicesAsync();
        await using var ingestService = ingest;
        await using var bridgeService = bridge;
        await using var gateway = GatewayFor(ingest.Url, bridge.Url);
        using var client = ClientOf(gateway);

        var document = OpenApiDocuments.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));

        foreach (var (method, path, operation) in OpenApiDocuments.All(document))
        {
            Assert.Equal(["service_down", "upstream_unavailable"], Codes(operation, "503"));
            Assert.Equal(["upstream_failed"], Codes(operation, "502"));
            Assert.Equal(["upstream_timeout"], Codes(operation, "504"));
            Assert.True(operation.Responses!["504"].Content![OpenApiDocuments.ProblemContentType].Schema is OpenApiSchemaReference { Reference.Id: "ProblemDetails" }, $"{method} {path}");
            Assert.Contains("`upstream_unavailable`", operation.Responses["503"].Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_document_is_served_from_a_cache_and_a_service_gone_later_keeps_its_last_part()
    {
        var (ingest, bridge) = await ServicesAsync();
        await using var ingestService = ingest;
        var time = new ManualTime();
        await using var gateway = GatewayFor(ingest.Url, bridge.Url, time);
        using var client = ClientOf(gateway);
        var first = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal(first, await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        Assert.Equal(1, ingest.Paths.Count(p => p == "/openapi/v1.json"));

        // Past PublicApi:CacheSeconds with the bridge gone: asked again, the bridge's part is its last copy.
        await bridge.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(31));
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, ingest.Paths.Count(p => p == "/openapi/v1.json"));
        Assert.Contains("GET /api/exports/{exportId}", OpenApiDocuments.Operations(OpenApiDocuments.Parse(await response.Content.ReadAsStringAsync())));
    }

    [Fact]
    [Trait("Req", "ERR-1")]
    public async Task A_service_whose_document_was_never_available_makes_the_document_a_503_problem_naming_it()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        ingest.Json["/openapi/v1.json"] = IngestDocument;
        var nobodyListens = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var gateway = GatewayFor(ingest.Url, nobodyListens);
        using var client = ClientOf(gateway);

        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("api_description_unavailable", problem.RootElement.GetProperty("code").GetString());
        Assert.True(problem.RootElement.GetProperty("retryable").GetBoolean());
        Assert.Equal(["labeling-bridge"], problem.RootElement.GetProperty("missing").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("labeling-bridge", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task The_reference_page_and_its_scripts_are_served_by_the_gateway_and_point_at_the_merged_document()
    {
        // No key: the reference is open like the health endpoints.
        await using var gateway = TestGateway.Create([new Uri("http://127.0.0.1:1")]);
        using var client = gateway.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var redirect = await client.GetAsync(new Uri("/docs", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        using var page = await client.GetAsync(new Uri("/docs/", UriKind.Relative));
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);
        Assert.Contains("\"withDefaultFonts\":false", html, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups["src"].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            Assert.DoesNotMatch("^(https?:)?//", script);
            using var asset = await client.GetAsync(new Uri("/docs/" + script, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    [Trait("Req", "SU-1")]
    public void A_document_source_that_names_no_proxy_cluster_stops_the_gateway_at_start_up()
    {
        using var gateway = TestGateway.Create([new Uri("http://127.0.0.1:1")]).WithWebHostBuilder(web =>
            web.UseSetting("PublicApi:Sources:ocr", "http://ocr/openapi/v1.json"));

        var error = Assert.ThrowsAny<Exception>(() => gateway.CreateClient());

        Assert.Contains("PublicApi:Sources:ocr names no cluster", error.ToString(), StringComparison.Ordinal);
    }

    private static string[] Codes(OpenApiOperation operation, string status) =>
        [.. OpenApiDocuments.ProblemCodes(operation.Responses![status]).Order(StringComparer.Ordinal)];

    private static JsonObject Ref(string schema) => new() { ["$ref"] = "#/components/schemas/" + schema };

    /// <summary>A path item: each operation with an id, a summary, a 200 (of the schema, if any) and a 503 problem of the service.</summary>
    private static JsonObject Item(params (string Method, string Id, string? Schema)[] operations)
    {
        var item = new JsonObject();
        foreach (var (method, id, schema) in operations)
        {
            var ok = new JsonObject { ["description"] = "OK" };
            if (schema is not null)
            {
                ok["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(schema) } };
            }

            item[method] = new JsonObject
            {
                ["operationId"] = id,
                ["summary"] = id,
                ["responses"] = new JsonObject
                {
                    ["200"] = ok,
                    ["503"] = new JsonObject
                    {
                        ["description"] = "Service Unavailable: a problem (application/problem+json) with code `service_down`.",
                        ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = Ref("ProblemDetails") } },
                        ["x-problem-codes"] = new JsonArray("service_down"),
                    },
                },
            };
        }

        return item;
    }

    private static string Document(JsonObject paths, JsonObject schemas)
    {
        schemas["ProblemDetails"] = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["code"] = new JsonObject { ["type"] = "string" }, ["retryable"] = new JsonObject { ["type"] = "boolean" } },
        };
        return new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject { ["title"] = "a service", ["version"] = "1.0.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["ApiKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-Api-Key" },
                    ["Bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["ApiKey"] = new JsonArray() }, new JsonObject { ["Bearer"] = new JsonArray() }),
        }.ToJsonString();
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();

    /// <summary>A clock the test moves by hand (the document cache's).</summary>
    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
