using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Suite.BrowserTests;

/// <summary>
/// The real Aspire dashboard of a running suite, as a person sees it in a browser (OBS-5, HC-5): every resource Running
/// (and healthy), one upload's trace across gateway, ingest and a worker stage, charts of an ingest and a worker
/// instrument, and a worker killed with SIGKILL shown restarted and Running again with its console logs. Each step
/// leaves a screenshot in the folder the test output names (also when it fails). Waits are Playwright's or bounded polls.
/// </summary>
[Collection("suite-with-dashboard")]
public sealed partial class DashboardTests(SuiteWithDashboard suite, ITestOutputHelper output)
{
    /// <summary>A wait for something the dashboard shows: generous, as a loaded 2-core machine renders slowly.</summary>
    private static readonly TimeSpan Shown = TimeSpan.FromSeconds(45);

    /// <summary>A wait for something that must happen first (a restart, telemetry exported and ingested).</summary>
    private static readonly TimeSpan Happens = TimeSpan.FromSeconds(90);

    private const string Worker = "pipeline-worker";

    /// <summary>Where this run's screenshots go.</summary>
    private readonly string _artifacts = TestArtifacts.NewDirectory();

    private int _step;

    [Fact]
    [Trait("Req", "OBS-5")]
    [Trait("Req", "HC-5")]
    public async Task The_dashboard_shows_the_suite_running_a_restarted_worker_with_its_logs_an_uploads_trace_and_a_metric_chart()
    {
        output.WriteLine($"Screenshots: {_artifacts}");
        SetDefaultExpectTimeout(Ms(Shown));

        var app = suite.App;
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(Shown);
        var dashboard = app.GetDashboardEndpoint();
        output.WriteLine($"Dashboard: {dashboard}");
        await WaitUntilServingAsync(dashboard);
        using var gateway = app.CreateGatewayClient();

        try
        {
            await StepAsync(page, "resources-running", async () =>
            {
                // The link with the browser token the AppHost prints: it sets the auth cookie, then shows the resources.
                await page.GotoAsync(app.GetDashboardLoginUrl().ToString());
                await Expect(page).ToHaveURLAsync(new Uri(dashboard, "/").ToString(), new() { Timeout = Ms(Shown) });

                // Exactly "Running": the dashboard writes "Running (Unhealthy)" or "(Degraded)" while a health check fails.
                foreach (var resource in app.Resources)
                {
                    foreach (var name in DashboardNames(app, resource))
                    {
                        await Expect(StateOf(page, name)).ToHaveTextAsync(Exactly("Running"), new() { Timeout = Ms(Shown) });
                    }
                }

                string[] expected = ["redis", "ingest", Worker, "labelstudio", "labeling-bridge", "gateway"];
                Assert.Subset(app.Resources.ToHashSet(StringComparer.Ordinal), expected.ToHashSet(StringComparer.Ordinal));
                await Expect(ResourceNames(page, WorkerReplicaName())).ToHaveCountAsync(2, new() { Timeout = Ms(Shown) });
            });

            // An upload under a trace id of the test's own (the gateway continues an incoming traceparent).
            var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var documentId = await UploadAsync(gateway, RepoPaths.CorpusFile("sf__minimal-document.pdf"), traceId);
            await WaitForCompletedAsync(gateway, documentId, app);

            await StepAsync(page, "upload-trace", async () =>
            {
                // The trace list has the upload's trace (received over OTLP from the services); filtered by name, as the
                // status polls through the gateway are traces too, and newer ones.
                var shortId = traceId[..7];
                await page.GotoAsync(new Uri(dashboard, "/traces").ToString());
                var rows = page.Locator("tr[role=row]");
                var filter = page.Locator("fluent-text-input[type=search]").First;
                await UntilAsync(
                    async () => await rows.Filter(new() { HasText = "gateway: POST /api/documents" }).CountAsync() > 0 &&
                        await rows.Filter(new() { HasText = "GET /api/documents" }).CountAsync() == 0,
                    async () =>
                    {
                        await filter.ClickAsync();
                        await filter.PressAsync("Control+A");
                        await filter.PressSequentiallyAsync("POST /api/documents");
                    },
                    "the trace list is filtered by name");
                await Expect(rows.Filter(new() { HasText = "gateway: POST /api/documents" }).Filter(new() { HasText = shortId }))
                    .ToBeVisibleAsync(new() { Timeout = Ms(Happens) });
                await ScreenshotAsync(page, $"{_step:D2}-upload-trace-list.png");

                // ...and its detail has spans of the gateway, ingest and a worker stage under that one trace id.
                await page.GotoAsync(new Uri(dashboard, "/traces/detail/" + traceId).ToString());
                await Expect(page.Locator("h1 .trace-id")).ToHaveTextAsync(shortId, new() { Timeout = Ms(Shown) });
                var resources = page.Locator(".resource-name");
                await Expect(resources.Filter(new() { HasTextRegex = ResourceOrInstance("gateway") }).First).ToBeVisibleAsync();
                await Expect(resources.Filter(new() { HasTextRegex = ResourceOrInstance("ingest") }).First).ToBeVisibleAsync();
                await Expect(resources.Filter(new() { HasTextRegex = WorkerReplicaName() }).First).ToBeVisibleAsync();
                var spans = page.Locator(".span-name-container");
                await Expect(spans.Filter(new() { HasTextRegex = new Regex(@"^\s*POST /api/documents") }).First).ToBeVisibleAsync();
                await Expect(spans.Filter(new() { HasTextRegex = new Regex(@"^\s*stage \w+") }).First).ToBeVisibleAsync(new() { Timeout = Ms(Happens) });
            });

            await StepAsync(page, "ingest-metric-chart", async () =>
            {
                await page.GotoAsync(new Uri(dashboard, "/metrics/resource/ingest").ToString());
                var heading = page.GetByRole(AriaRole.Heading, new() { Name = "ingest.uploads", Exact = true });
                await UntilAsync(() => heading.IsVisibleAsync(), () => page.Locator("fluent-tree-item[title='ingest.uploads']").ClickAsync(), "ingest.uploads is selected");

                // Plotly draws the series once the data is loaded; the upload's outcome is the chart's dimension.
                await Expect(page.Locator(".plotly-chart-container .main-svg .scatterlayer .trace").First).ToBeAttachedAsync(new() { Timeout = Ms(Happens) });
                await Expect(page.Locator(".metrics-filters-container").GetByRole(AriaRole.Button, new() { Name = "accepted", Exact = true })).ToBeVisibleAsync();
            });

            // The workers' telemetry comes from several instances (replicas, restarts): the dashboard groups them.
            await StepAsync(page, "worker-metric-chart", async () =>
            {
                await page.GotoAsync(new Uri(dashboard, "/metrics/resource/" + Worker).ToString());
                var heading = page.GetByRole(AriaRole.Heading, new() { Name = "suite.worker.stage.duration", Exact = true });
                await UntilAsync(() => heading.IsVisibleAsync(), () => page.Locator("fluent-tree-item[title='suite.worker.stage.duration']").ClickAsync(), "suite.worker.stage.duration is selected");

                // A histogram: its percentiles drawn, with the stages the worker ran among the filter values.
                await Expect(page.Locator(".plotly-chart-container .main-svg .scatterlayer .trace").First).ToBeAttachedAsync(new() { Timeout = Ms(Happens) });
                await Expect(page.Locator(".metrics-filters-container").GetByRole(AriaRole.Button, new() { Name = "extract", Exact = true })).ToBeVisibleAsync();
            });

            // After the trace is in: a killed process takes the spans it had not exported yet with it.
            var killed = app.GetReplica(Worker, 0);
            var pid = await app.KillReplicaAsync(Worker, 0);
            output.WriteLine($"kill -9 {pid} ({killed.Id})");

            await StepAsync(page, "worker-restarted", async () =>
            {
                await page.GotoAsync(dashboard.ToString());
                await Expect(StateOf(page, killed.Id)).ToHaveTextAsync(Exactly("Running"), new() { Timeout = Ms(Happens) });
                var details = page.Locator(".resource-details-layout");
                var title = page.Locator($".details-header-title[title='Project: {killed.Id}']");
                await UntilAsync(() => title.IsVisibleAsync(), () => ResourceNames(page, Exactly(killed.Id)).ClickAsync(), $"the details panel of {killed.Id} opens");
                await Expect(details).ToBeVisibleAsync();

                // The AppHost's own snapshot properties are among "all properties", not the core ones shown by default.
                // The panel re-renders on every update of the replica, which can swallow a click on its menu: try again.
                var restarts = PropertyValue(details, RestartOnCrashExtensions.RestartsProperty);
                var showAll = page.Locator("fluent-menu-item", new() { HasText = "Show all properties" });
                await UntilAsync(async () => await restarts.CountAsync() > 0, async () =>
                {
                    if (!await showAll.IsVisibleAsync())
                    {
                        await details.Locator("fluent-button.resource-details-actions").ClickAsync();
                    }

                    await showAll.ClickAsync(new() { Timeout = 5_000 });
                }, "the details panel shows all properties");

                await Expect(restarts).ToHaveTextAsync(Exactly("1"), new() { Timeout = Ms(Happens) });
                await Expect(PropertyValue(details, RestartOnCrashExtensions.LastCrashProperty)).ToContainTextAsync("exit code 137");
                await Expect(PropertyValue(details, "State")).ToHaveTextAsync(Exactly("Running"), new() { Timeout = Ms(Happens) });
                await Expect(PropertyValue(details, "Health state")).ToHaveTextAsync(Exactly("Healthy"), new() { Timeout = Ms(Happens) });
            });

            await StepAsync(page, "worker-console-logs", async () =>
            {
                await page.GotoAsync(new Uri(dashboard, "/consolelogs/resource/" + killed.Id).ToString());
                var lines = page.Locator(".console-line-row .log-content");
                await Expect(lines.Filter(new() { HasTextRegex = new Regex($"{Regex.Escape(killed.Id)} exited unexpectedly .*exit code 137") }))
                    .ToBeVisibleAsync(new() { Timeout = Ms(Shown) });

                // The worker's own output, before the kill and again after the restart.
                var started = lines.Filter(new() { HasText = $"Job consumer {killed.Id} reading stream" });
                await Expect(started.Nth(1)).ToBeAttachedAsync(new() { Timeout = Ms(Happens) });
            });
        }
        finally
        {
            output.WriteLine($"{app.Describe()}");
        }
    }

    /// <summary>
    /// Acts until the page shows the outcome (bounded): a click or keystrokes that reach a Blazor page before its circuit
    /// is connected, or while it re-renders, change nothing, and a person would simply do it again.
    /// </summary>
    private static Task UntilAsync(Func<Task<bool>> shown, Func<Task> act, string what) =>
        Eventually.UntilAsync(async () =>
        {
            if (await shown())
            {
                return true;
            }

            await act();
            try
            {
                await Eventually.UntilAsync(shown, TimeSpan.FromSeconds(5), what, TimeSpan.FromMilliseconds(200));
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, Shown, what, TimeSpan.FromMilliseconds(200));

    /// <summary>
    /// Runs one step and screenshots the page after it (named -FAILED when it threw), numbered in order. A step opens
    /// its page itself, so when the dashboard's circuit crashed ("An unhandled error has occurred. Reload") it is run
    /// again, at most twice, as a person would reload: seen with Aspire 13.6.5 on the resources page right after the
    /// login (a disposed Virtualize interop) and on the Traces page while spans arrive (ArgumentOutOfRangeException
    /// rendering a row's tooltip). Any other failure fails the test at once.
    /// </summary>
    private async Task StepAsync(IPage page, string name, Func<Task> step)
    {
        var file = $"{++_step:D2}-{name}";
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await step();
                break;
            }
            catch (Exception ex)
            {
                if (attempt < 3 && await CircuitCrashedAsync(page))
                {
                    output.WriteLine($"The dashboard's circuit crashed on {page.Url} (attempt {attempt}: {ex.GetType().Name}); reloading.");
                    await ScreenshotAsync(page, $"{file}-circuit-crash-{attempt}.png");
                    continue;
                }

                await ScreenshotAsync(page, file + "-FAILED.png");
                throw;
            }
        }

        await ScreenshotAsync(page, file + ".png");
    }

    private static async Task<bool> CircuitCrashedAsync(IPage page)
    {
        try
        {
            return await page.Locator("#blazor-error-ui").IsVisibleAsync();
        }
        catch (PlaywrightException)
        {
            return false;
        }
    }

    private async Task ScreenshotAsync(IPage page, string fileName)
    {
        var path = Path.Combine(_artifacts, fileName);
        try
        {
            await page.ScreenshotAsync(new() { Path = path, FullPage = true, Timeout = 30_000 });
            output.WriteLine($"screenshot {path}");
        }
        catch (PlaywrightException ex)
        {
            output.WriteLine($"no screenshot {path}: {ex.Message}");
        }
        catch (TimeoutException ex)
        {
            output.WriteLine($"no screenshot {path}: {ex.Message}");
        }
    }

    /// <summary>How the resources page names a resource's rows: its name, or each replica's id when it has several.</summary>
    private static IEnumerable<string> DashboardNames(SuiteApp app, string resource)
    {
        var replicas = app.GetReplicas(resource);
        return replicas.Count == 1 ? [resource] : replicas.Select(r => r.Id);
    }

    /// <summary>The names in the resources grid that match.</summary>
    private static ILocator ResourceNames(IPage page, Regex name) =>
        page.Locator("tr[role=row]").Locator(NameText(page, name));

    /// <summary>The state text in a resource's row on the resources page (without the unread error logs badge beside it).</summary>
    private static ILocator StateOf(IPage page, string name) =>
        page.Locator("tr[role=row]")
            .Filter(new() { Has = NameText(page, Exactly(name)) })
            .Locator(".state-column-cell > span");

    private static ILocator NameText(IPage page, Regex name) =>
        page.Locator(".resource-name-text").Filter(new() { HasTextRegex = name });

    /// <summary>The value cell of a property in the resource details panel.</summary>
    private static ILocator PropertyValue(ILocator details, string property) =>
        details.Locator("tr[role=row]")
            .Filter(new() { Has = details.Page.Locator($".grid-value[title='{property}']") })
            .Locator("td.valueColumn");

    private static Regex Exactly(string text) => new($@"^\s*{Regex.Escape(text)}\s*$");

    /// <summary>A resource's telemetry name: the resource, or one of its instances when several sent telemetry.</summary>
    private static Regex ResourceOrInstance(string resource) => new($@"^\s*{Regex.Escape(resource)}(-\S+)?\s*$");

    [GeneratedRegex($@"^\s*{Worker}-\S+\s*$")]
    private static partial Regex WorkerReplicaName();

    private static float Ms(TimeSpan timeout) => (float)timeout.TotalMilliseconds;

    /// <summary>The suite is healthy before the dashboard is asked to be: wait (bounded) until its pages answer.</summary>
    private static async Task WaitUntilServingAsync(Uri dashboard)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.UntilAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri(dashboard, "/login"));
            return (int)response.StatusCode < 500;
        }, Shown, $"the dashboard at {dashboard} serves its pages", TimeSpan.FromMilliseconds(500));
    }

    private static async Task<string> UploadAsync(HttpClient gateway, string path, string traceId)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", Path.GetFileName(path));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents", UriKind.Relative)) { Content = form };
        request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
        using var response = await gateway.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task WaitForCompletedAsync(HttpClient gateway, string id, SuiteApp app)
    {
        var status = "";
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                using var json = JsonDocument.Parse(await gateway.GetStringAsync(new Uri($"/api/documents/{id}", UriKind.Relative)));
                status = json.RootElement.GetProperty("status").GetString() ?? "";
                return status is "completed" or "failed" or "cancelled";
            }, Happens, $"document {id} is processed", TimeSpan.FromMilliseconds(500));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (status {status})\n{app.Diagnostics(_ => true)}", ex);
        }

        Assert.True(status == "completed", $"document {id} ended {status}\n{app.Diagnostics(r => r == Worker)}");
    }
}
