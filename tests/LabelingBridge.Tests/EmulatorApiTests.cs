using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelingBridge.Exports;
using LabelStudioEmulator;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>The emulator keeps Label Studio's shapes, status codes and auth rules (section A of the reference notes).</summary>
public sealed class EmulatorApiTests
{
    private static HttpClient Client(EmulatorServer emulator, string? scheme = "Token", string? token = null)
    {
        var client = new HttpClient { BaseAddress = emulator.Url };
        if (scheme is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, token ?? emulator.LegacyToken);
        }

        return client;
    }

    private static async Task<int> ProjectAsync(HttpClient client)
    {
        using var created = await client.PostAsJsonAsync("api/projects/", new { title = "t", label_config = LayoutLabels.LabelConfigXml() });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    private static async Task AssertLsError(HttpResponseMessage response, HttpStatusCode status, string? validationField = null)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var key in new[] { "id", "status_code", "version", "detail", "exc_info" })
        {
            Assert.True(body.TryGetProperty(key, out _), $"error body lacks {key}: {body}");
        }

        Assert.Equal((int)status, body.GetProperty("status_code").GetInt32());
        if (validationField is not null)
        {
            Assert.True(body.GetProperty("validation_errors").TryGetProperty(validationField, out _), body.ToString());
        }
    }

    [Fact]
    public async Task Auth_rules_legacy_token_PAT_refresh_and_open_health_and_version()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var anonymous = Client(emulator, scheme: null);
        using var wrong = Client(emulator, token: "nope");

        Assert.Equal("UP", (await anonymous.GetFromJsonAsync<JsonElement>("health")).GetProperty("status").GetString());
        Assert.True((await anonymous.GetFromJsonAsync<JsonElement>("api/version/")).TryGetProperty("release", out _));
        using var missing = await anonymous.GetAsync(new Uri("api/projects/", UriKind.Relative));
        await AssertLsError(missing, HttpStatusCode.Unauthorized);
        using var invalid = await wrong.GetAsync(new Uri("api/projects/", UriKind.Relative));
        await AssertLsError(invalid, HttpStatusCode.Unauthorized);

        var pat = emulator.State.Tokens.IssuePersonalAccessToken();
        using var refresh = await anonymous.PostAsJsonAsync("api/token/refresh/", new { refresh = pat });
        var access = (await refresh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access").GetString();
        using var bearer = Client(emulator, "Bearer", access);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync(new Uri("api/projects/", UriKind.Relative))).StatusCode);
        using var patAsBearer = Client(emulator, "Bearer", pat);
        Assert.Equal(HttpStatusCode.Unauthorized, (await patAsBearer.GetAsync(new Uri("api/projects/", UriKind.Relative))).StatusCode);

        emulator.Faults.CredentialsRevoked = true;
        using var legacy = Client(emulator);
        Assert.Equal(HttpStatusCode.Unauthorized, (await legacy.GetAsync(new Uri("api/projects/", UriKind.Relative))).StatusCode);
        using var refused = await anonymous.PostAsJsonAsync("api/token/refresh/", new { refresh = pat });
        await AssertLsError(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Predictions_are_validated_strictly_against_the_labeling_config()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var client = Client(emulator);
        var project = await ProjectAsync(client);

        static JsonObject Region(string from = "label", string to = "image", string type = "rectanglelabels", string label = "Table", double x = 10) => new()
        {
            ["from_name"] = from, ["to_name"] = to, ["type"] = type,
            ["value"] = new JsonObject { ["x"] = x, ["y"] = 10, ["width"] = 20, ["height"] = 20, ["rectanglelabels"] = new JsonArray(label) },
        };

        foreach (var bad in new[] { Region(from: "nope"), Region(to: "img"), Region(type: "labels"), Region(label: "Dog"), Region(x: 95) })
        {
            using var refused = await client.PostAsJsonAsync($"api/projects/{project}/import",
                new JsonArray(new JsonObject { ["data"] = new JsonObject { ["image"] = "http://x/1.png" }, ["predictions"] = new JsonArray(new JsonObject { ["result"] = new JsonArray(bad) }) }));
            await AssertLsError(refused, HttpStatusCode.BadRequest, "predictions");
        }

        using var noImage = await client.PostAsJsonAsync($"api/projects/{project}/import", new JsonArray(new JsonObject { ["data"] = new JsonObject { ["doc_id"] = "x" } }));
        await AssertLsError(noImage, HttpStatusCode.BadRequest, "data");
        Assert.Empty(emulator.Store.Tasks(project));

        using var ok = await client.PostAsJsonAsync($"api/projects/{project}/import?return_task_ids=true",
            new JsonArray(new JsonObject { ["image"] = "http://x/1.png" }));
        var created = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(1, created.GetProperty("task_count").GetInt32());
        Assert.Equal(0, created.GetProperty("prediction_count").GetInt32());
        var taskId = created.GetProperty("task_ids")[0].GetInt32();

        using var bulk = await client.PostAsJsonAsync($"api/projects/{project}/import/predictions",
            new JsonArray(new JsonObject { ["task"] = taskId, ["result"] = new JsonArray(Region()), ["score"] = 0.9, ["model_version"] = "v1" }));
        Assert.Equal(1, (await bulk.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        using var foreign = await client.PostAsJsonAsync($"api/projects/{project}/import/predictions",
            new JsonArray(new JsonObject { ["task"] = 9999, ["result"] = new JsonArray(Region()) }));
        await AssertLsError(foreign, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Task_pages_past_the_end_are_404_and_the_JSON_export_lists_annotated_tasks()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var client = Client(emulator);
        var project = await ProjectAsync(client);
        var tasks = new JsonArray([.. Enumerable.Range(1, 3).Select(n => (JsonNode)new JsonObject { ["image"] = $"http://x/{n}.png", ["doc_id"] = "d", ["page_no"] = n })]);
        (await client.PostAsJsonAsync($"api/projects/{project}/import", tasks)).EnsureSuccessStatusCode();

        var page1 = await client.GetFromJsonAsync<JsonElement>($"api/tasks/?project={project}&page=1&page_size=2");
        var page2 = await client.GetFromJsonAsync<JsonElement>($"api/tasks/?project={project}&page=2&page_size=2");
        using var page3 = await client.GetAsync(new Uri($"api/tasks/?project={project}&page=3&page_size=2", UriKind.Relative));
        Assert.Equal(3, page1.GetProperty("total").GetInt32());
        Assert.Equal(2, page1.GetProperty("tasks").GetArrayLength());
        Assert.Equal(1, page2.GetProperty("tasks").GetArrayLength());
        await AssertLsError(page3, HttpStatusCode.NotFound);

        var first = emulator.Store.Tasks(project)[0].Id;
        await emulator.Actions.CreateAnnotationAsync(first, new JsonArray());
        using var export = await client.GetAsync(new Uri($"api/projects/{project}/export?exportType=JSON", UriKind.Relative));
        Assert.Contains("attachment", export.Content.Headers.ContentDisposition?.ToString() ?? export.Headers.ToString(), StringComparison.Ordinal);
        var exported = await export.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(first, Assert.Single(exported.EnumerateArray()).GetProperty("id").GetInt32());
        Assert.Equal(1, Assert.Single(exported.EnumerateArray()).GetProperty("annotations").GetArrayLength());
    }

    [Fact]
    public async Task Webhooks_are_validated_and_fire_ANNOTATION_CREATED_with_their_headers()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var client = Client(emulator);
        var project = await ProjectAsync(client);
        using var tooMany = await client.PostAsJsonAsync("api/webhooks/", new JsonObject
        {
            ["url"] = "http://127.0.0.1:9/hook",
            ["headers"] = new JsonObject(Enumerable.Range(0, 11).Select(i => KeyValuePair.Create("H" + i, (JsonNode?)"v"))),
        });
        await AssertLsError(tooMany, HttpStatusCode.BadRequest, "headers");
        using var badHeader = await client.PostAsJsonAsync("api/webhooks/", new JsonObject { ["url"] = "http://127.0.0.1:9/hook", ["headers"] = new JsonObject { ["bad header"] = "v" } });
        await AssertLsError(badHeader, HttpStatusCode.BadRequest, "headers");
        using var noUrl = await client.PostAsJsonAsync("api/webhooks/", new JsonObject { ["project"] = project });
        await AssertLsError(noUrl, HttpStatusCode.BadRequest, "url");
        using var created = await client.PostAsJsonAsync("api/webhooks/", new JsonObject
        {
            ["url"] = "http://127.0.0.1:9/hook", ["project"] = project, ["send_for_all_actions"] = false,
            ["actions"] = new JsonArray("ANNOTATION_CREATED"), ["headers"] = new JsonObject { ["X-Secret"] = "s" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        (await client.PostAsJsonAsync($"api/projects/{project}/import", new JsonArray(new JsonObject { ["image"] = "http://x/1.png" }))).EnsureSuccessStatusCode();

        var result = await emulator.Actions.CreateAnnotationAsync(emulator.Store.Tasks(project)[0].Id, new JsonArray());

        // Nobody listens on port 9: Label Studio logs and swallows the failure, no retry.
        var attempt = Assert.Single(result!.Value.Webhooks);
        Assert.Equal(("ANNOTATION_CREATED", "error"), (attempt.Action, attempt.Outcome));
    }

    [Fact]
    public async Task Fault_controls_answer_like_a_failing_server_and_are_visible_in_the_request_log()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        using var client = Client(emulator);

        emulator.Faults.ServerErrors(1, 503);
        using var unavailable = await client.GetAsync(new Uri("api/projects/", UriKind.Relative));
        await AssertLsError(unavailable, HttpStatusCode.ServiceUnavailable);

        emulator.Faults.Throttle(1, retryAfterSeconds: 7);
        using var throttled = await client.GetAsync(new Uri("api/projects/", UriKind.Relative));
        await AssertLsError(throttled, (HttpStatusCode)429);
        Assert.Equal(TimeSpan.FromSeconds(7), throttled.Headers.RetryAfter?.Delta);

        emulator.Faults.BlackHole = true;
        using (var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(700)))
        {
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => client.GetAsync(new Uri("api/projects/", UriKind.Relative), patience.Token));
        }

        emulator.Faults.BlackHole = false;

        emulator.Faults.Down = true;
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri("api/projects/", UriKind.Relative)));
        emulator.Faults.Down = false;

        using var fine = await client.GetAsync(new Uri("api/projects/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        Assert.Equal([503, 429, 0, 0, 200], emulator.Requests.Snapshot().Select(r => r.Status));
    }

    [Fact]
    public async Task The_emulator_runs_as_its_own_process_and_says_it_is_an_emulator()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "LabelStudioEmulator.dll");
        var port = FreePort.Next();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--Emulator:LegacyToken=process-token" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Token", "process-token");
            await Eventually.UntilAsync(async () => (await client.GetAsync(new Uri("/health", UriKind.Relative))).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the emulator process answers /health");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/projects/", UriKind.Relative))).StatusCode);
            await Eventually.UntilAsync(() => { lock (output) { return output.ToString().Contains("EMULATOR", StringComparison.Ordinal); } }, TimeSpan.FromSeconds(10), "the banner says EMULATOR");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
