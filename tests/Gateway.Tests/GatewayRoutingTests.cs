using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Suite.Testing;

namespace Gateway.Tests;

public sealed class GatewayRoutingTests
{
    private static WebApplicationFactory<Program> GatewayFor(params Uri[] ingestEndpoints) => TestGateway.Create(ingestEndpoints);

    private static WebApplicationFactory<Program> GatewayFor(Uri[] ingestEndpoints, Uri? bridge) => TestGateway.Create(ingestEndpoints, bridge);

    [Fact]
    public async Task Label_studio_export_and_annotation_routes_go_to_the_labeling_bridge_and_the_rest_to_ingest()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var bridge = await RecordingBackend.StartAsync("bridge-0");
        await using var gateway = GatewayFor([ingest.Url], bridge.Url);
        using var client = gateway.CreateKeyedClient();

        async Task<string> Send(HttpMethod method, string path)
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)));
            return await response.Content.ReadAsStringAsync();
        }

        Assert.Equal("bridge-0:POST:/api/documents/abc/exports/label-studio", await Send(HttpMethod.Post, "/api/documents/abc/exports/label-studio"));
        Assert.Equal("bridge-0:GET:/api/documents/abc/exports", await Send(HttpMethod.Get, "/api/documents/abc/exports"));
        Assert.Equal("bridge-0:GET:/api/documents/abc/annotations", await Send(HttpMethod.Get, "/api/documents/abc/annotations"));
        Assert.Equal("bridge-0:GET:/api/exports/e1", await Send(HttpMethod.Get, "/api/exports/e1"));
        Assert.Equal("bridge-0:POST:/api/labeling/webhooks/label-studio", await Send(HttpMethod.Post, "/api/labeling/webhooks/label-studio"));
        Assert.Equal("ingest-0:GET:/api/documents/abc", await Send(HttpMethod.Get, "/api/documents/abc"));
        Assert.Equal("ingest-0:GET:/api/documents/abc/pages/1/image", await Send(HttpMethod.Get, "/api/documents/abc/pages/1/image"));
    }

    [Fact]
    public async Task Document_routes_are_forwarded_to_the_ingest_service_found_by_service_discovery()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = GatewayFor(ingest.Url);
        using var client = gateway.CreateKeyedClient();

        var list = await client.GetAsync(new Uri("/api/documents?limit=5", UriKind.Relative));
        var one = await client.GetAsync(new Uri("/api/documents/abc/result?format=markdown", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("ingest-0:GET:/api/documents", await list.Content.ReadAsStringAsync());
        Assert.Equal("ingest-0:GET:/api/documents/abc/result", await one.Content.ReadAsStringAsync());
        Assert.Contains("/api/documents/abc/result?format=markdown", ingest.Paths);
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task A_URL_upload_as_application_json_goes_through_the_upload_route_to_ingest_with_its_body_and_content_type()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = GatewayFor(ingest.Url);
        using var client = gateway.CreateKeyedClient();
        const string json = """{"url":"https://example.com/report.pdf"}""";

        using var response = await client.PostAsync(new Uri("/api/documents?priority=batch", UriKind.Relative),
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ingest-0:POST:/api/documents", await response.Content.ReadAsStringAsync());
        Assert.Contains("/api/documents?priority=batch", ingest.Paths);
        Assert.Equal(json, Assert.Single(ingest.JsonBodies));
        var headers = Assert.Single(ingest.Headers).Split('\n');
        Assert.Contains(headers, h => h.StartsWith("Content-Type: application/json", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(headers, h => h.Equals($"Content-Length: {System.Text.Encoding.UTF8.GetByteCount(json)}", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(headers, h => h.Equals($"X-Suite-Client: {TestGateway.ClientName}", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Internal_worker_endpoints_are_not_reachable_through_the_gateway()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = GatewayFor(ingest.Url);
        using var client = gateway.CreateKeyedClient();

        // The operators' database routes too (backup, integrity check): internal like the workers' API.
        foreach (var path in new[]
                 {
                     "/internal/documents/abc/claim", "/internal/admin/catalog/integrity-check", "/internal/admin/catalog/backup",
                     "/internal/admin/outbox/integrity-check", "/api/internal/x", "/health-internal", "/api/documentsx",
                 })
        {
            using var response = await client.PostAsync(new Uri(path, UriKind.Relative), new StringContent("{}"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Empty(ingest.Paths);
    }

    [Fact]
    public async Task Requests_are_spread_over_every_replica_of_the_service()
    {
        await using var first = await RecordingBackend.StartAsync("ingest-0");
        await using var second = await RecordingBackend.StartAsync("ingest-1");
        await using var gateway = GatewayFor(first.Url, second.Url);
        using var client = gateway.CreateKeyedClient();

        // Service discovery resolves the destinations asynchronously: wait until both are in the cluster.
        var lookup = gateway.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        // Round robin goes over the cluster's available destinations, a list YARP updates after the destinations
        // themselves: wait for both lists.
        await Eventually.UntilAsync(
            () => lookup.TryGetCluster("ingest", out var resolved) && resolved.Destinations.Count == 2
                  && resolved.DestinationsState.AvailableDestinations.Count == 2,
            TimeSpan.FromSeconds(10),
            "both ingest replicas are resolved and available");
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync(new Uri("/api/documents", UriKind.Relative));
            response.EnsureSuccessStatusCode();
        }

        Assert.True(lookup.TryGetCluster("ingest", out var cluster));
        Assert.Equal(2, cluster.Destinations.Count);
        Assert.NotEmpty(first.Paths);
        Assert.NotEmpty(second.Paths);
    }

    [Fact]
    [Trait("Req", "ERR-1")]
    public async Task An_unreachable_service_answers_a_problem_with_a_stable_code_not_an_empty_502()
    {
        var nobodyListens = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var gateway = GatewayFor(nobodyListens);
        using var client = gateway.CreateKeyedClient();

        using var response = await client.GetAsync(new Uri("/api/documents/abc", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("upstream_failed", problem.RootElement.GetProperty("code").GetString());
        Assert.True(problem.RootElement.GetProperty("retryable").GetBoolean());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("traceId").GetString()));
        Assert.True(response.Headers.Contains("Retry-After"));
    }
}
