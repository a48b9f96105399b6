using System.Collections.Concurrent;
using System.Net;
using Microsoft.Playwright;
using Suite.Testing.OpenApi;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Suite.BrowserTests;

/// <summary>
/// The API reference of a running suite, as a person opens it through the gateway: /docs/ renders the operations of
/// both public services from the merged OpenAPI document, with every request outside the gateway refused (no CDN, no
/// web fonts). And that document: valid OpenAPI 3, every operation of the services' own documents, nothing internal.
/// </summary>
[Collection("suite-with-dashboard")]
public sealed class ApiReferenceTests(SuiteWithDashboard suite, ITestOutputHelper output)
{
    /// <summary>The development key; the gateway will require it on /api (the documentation paths stay open).</summary>
    private const string ApiKey = "suite-dev-key";

    /// <summary>A generous bound for what the page shows: a loaded 2-core machine renders a 5 MB script slowly.</summary>
    private static readonly TimeSpan Shown = TimeSpan.FromSeconds(60);

    private static HttpClient ClientFor(Uri baseAddress)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    [Fact]
    public async Task The_gateways_document_has_every_operation_of_the_services_documents_and_nothing_internal()
    {
        using var gateway = ClientFor(suite.App.GetEndpoint("gateway"));
        using var ingest = ClientFor(suite.App.GetEndpoint("ingest"));
        using var bridge = ClientFor(suite.App.GetEndpoint("labeling-bridge"));

        var merged = OpenApiDocuments.Parse(await gateway.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        var ingestOperations = OpenApiDocuments.Operations(OpenApiDocuments.Parse(await ingest.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative))));
        var bridgeOperations = OpenApiDocuments.Operations(OpenApiDocuments.Parse(await bridge.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative))));

        // Each service's document lists exactly its routed /api endpoints (its own tests); the gateway routes all of them.
        Assert.Equal(new SortedSet<string>(ingestOperations.Concat(bridgeOperations), StringComparer.Ordinal), OpenApiDocuments.Operations(merged));
        Assert.Contains("POST /api/documents", ingestOperations);
        Assert.Contains("POST /api/documents/{id}/exports/label-studio", bridgeOperations);
        Assert.All(merged.Paths.Keys, path => Assert.StartsWith("/api/", path, StringComparison.Ordinal));
        Assert.Equal(suite.App.GetEndpoint("gateway").ToString().TrimEnd('/'), Assert.Single(merged.Servers!).Url);
        OpenApiDocuments.AssertDescribed(merged);
    }

    [Fact]
    public async Task The_reference_page_renders_the_operations_of_both_services_without_the_internet()
    {
        var artifacts = TestArtifacts.NewDirectory("api-reference");
        var gateway = suite.App.GetEndpoint("gateway");
        output.WriteLine($"Reference: {new Uri(gateway, "/docs/")}; screenshots: {artifacts}");
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(Shown);

        // Only the gateway is reachable: anything else the page asks for is refused and recorded.
        var refused = new ConcurrentQueue<string>();
        var served = new ConcurrentQueue<string>();
        await page.Context.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "http" or "https" && url.Authority != gateway.Authority)
            {
                refused.Enqueue(route.Request.Url);
                await route.AbortAsync("blockedbyclient");
                return;
            }

            served.Enqueue(route.Request.Url);
            await route.ContinueAsync();
        });

        try
        {
            var response = await page.GotoAsync(new Uri(gateway, "/docs").ToString());
            Assert.Equal((int)HttpStatusCode.OK, response?.Status);

            // An operation of each service, by its summary, rendered from the merged document: ingest's upload in the
            // first tag, open; the bridge's export once its tag in the sidebar is opened (a click the page may not
            // take while it is still hydrating, so done again until it shows, bounded).
            await Expect(page.GetByText("Upload a document for processing", new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = Ms(Shown) });
            var export = page.GetByText("Export a completed document to Label Studio", new() { Exact = true }).First;
            await Eventually.UntilAsync(async () =>
            {
                if (!await export.IsVisibleAsync())
                {
                    await page.GetByText("exports", new() { Exact = true }).First.ClickAsync();
                }

                try
                {
                    await Expect(export).ToBeVisibleAsync(new() { Timeout = 5_000 });
                    return true;
                }
                catch (PlaywrightException)
                {
                    return false;
                }
            }, Shown, "the exports tag opens and shows the export operation", TimeSpan.FromMilliseconds(200));
            Assert.Contains(served, url => new Uri(url).AbsolutePath == "/openapi/v1.json");
            Assert.Contains(served, url => new Uri(url).AbsolutePath == "/docs/scalar.js");
            await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "api-reference.png"), FullPage = false });
            Assert.True(refused.IsEmpty, "the page asked for addresses outside the gateway: " + string.Join(", ", refused));
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "api-reference-FAILED.png"), FullPage = false, Timeout = 30_000 });
            output.WriteLine("refused: " + string.Join(", ", refused));
            throw;
        }
    }

    private static float Ms(TimeSpan timeout) => (float)timeout.TotalMilliseconds;
}
