using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>
/// The document viewer's static files at / (MapViewer): open without a key, with their own content security policy,
/// and shadowing nothing: the proxy routes still require the key, health and the API reference answer as before.
/// </summary>
public sealed class ViewerTests
{
    [Fact]
    public async Task The_viewer_page_and_its_modules_are_served_at_the_root_without_a_key()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var anonymous = gateway.CreateClient();

        using var page = await anonymous.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", html, StringComparison.Ordinal);
        Assert.Equal(ViewerExtensions.ContentSecurityPolicy, Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(page.Headers.CacheControl?.NoCache, "the page is revalidated, never served stale after an update");

        foreach (var (path, type) in new[]
                 {
                     ("/app.js", "text/javascript"), ("/api.js", "text/javascript"), ("/live.js", "text/javascript"),
                     ("/markdown.js", "text/javascript"), ("/app.css", "text/css"), ("/index.html", "text/html"),
                 })
        {
            using var file = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(file.StatusCode == HttpStatusCode.OK, $"{path}: {(int)file.StatusCode}");
            Assert.Equal(type, file.Content.Headers.ContentType?.MediaType);
        }

        Assert.Empty(ingest.Paths);
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    public async Task The_static_files_shadow_no_route_the_api_still_needs_the_key_and_health_and_docs_answer_as_before()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var anonymous = gateway.CreateClient();

        using var list = await anonymous.GetAsync(new Uri("/api/documents", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        using (var problem = JsonDocument.Parse(await list.Content.ReadAsStringAsync()))
        {
            Assert.Equal("api_key_missing", problem.RootElement.GetProperty("code").GetString());
        }

        // A file name under /api is a proxy route like any other, never a static file.
        using var underApi = await anonymous.GetAsync(new Uri("/api/documents/index.html", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, underApi.StatusCode);
        using var keyed = gateway.CreateKeyedClient();
        using var forwarded = await keyed.GetAsync(new Uri("/api/documents/app.js", UriKind.Relative));
        Assert.Equal("ingest-0:GET:/api/documents/app.js", await forwarded.Content.ReadAsStringAsync());

        using var live = await anonymous.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var reference = await anonymous.GetAsync(new Uri("/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.DoesNotContain("app.js", await reference.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Internal routes stay unrouted, and an unknown path is a 404 problem, not the page.
        using var internalRoute = await anonymous.GetAsync(new Uri("/internal/documents/abc/events", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, internalRoute.StatusCode);
        using var unknown = await anonymous.GetAsync(new Uri("/no-such-page", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.NotEqual("text/html", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["/api/documents/app.js"], ingest.Paths);
    }
}
