using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelingBridge.Tests.Infrastructure;
using LabelStudioEmulator;
using Suite.Contracts;

namespace LabelingBridge.Tests;

/// <summary>The normal path against the emulator over real HTTP: provisioning, one task per page, predictions on the right regions.</summary>
public sealed class ExportDeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_export_creates_one_task_per_page_in_a_project_provisioned_once_with_the_layout_labels()
    {
        await using var s = await Scenario.StartAsync();
        var first = s.AddDocument(pages: 2);
        var second = s.AddDocument(pages: 1);

        var export = await s.WaitForExportAsync(await s.RequestExportAsync(first), "delivered", Wait);
        await s.WaitForExportAsync(await s.RequestExportAsync(second), "delivered", Wait);

        var project = Assert.Single(s.Emulator.Store.Projects(null));
        Assert.Equal(project.Id, export.GetProperty("labelStudio").GetProperty("projectId").GetInt32());
        Assert.Equal(2, export.GetProperty("labelStudio").GetProperty("tasksCreated").GetInt32());
        Assert.Equal(1, export.GetProperty("attempts").GetInt32());
        var labels = project.Config.Controls["label"];
        Assert.Equal("RectangleLabels", labels.Type);
        Assert.Equal(["image"], labels.ToNames);
        Assert.Equal(["Title", "Section-header", "Text", "List-item", "Table", "Picture", "Caption", "Page-header", "Page-footer", "Footnote", "Formula"], labels.Labels);

        var tasks = s.TasksOf(first).OrderBy(t => t.Data["page_no"]!.GetValue<int>()).ToList();
        Assert.Equal(2, tasks.Count);
        Assert.Single(s.TasksOf(second));
        for (var n = 1; n <= 2; n++)
        {
            var data = tasks[n - 1].Data;
            Assert.Equal($"{s.Bridge.Url.ToString().TrimEnd('/')}/api/documents/{first}/pages/{n}/image", data["image"]!.GetValue<string>());
            Assert.Equal(first, data["doc_id"]!.GetValue<string>());
            Assert.Equal(n, data["page_no"]!.GetValue<int>());
            Assert.Equal(3, Assert.Single(tasks[n - 1].Predictions).Result.Count);
        }

        // The webhook carrying the shared secret was registered once, for the annotation actions.
        var hook = Assert.Single(s.Emulator.Store.Webhooks(project.Id));
        Assert.Equal(Scenario.WebhookSecret, hook.Headers["X-Suite-Webhook-Secret"]);
        Assert.Equal($"{s.Bridge.Url.ToString().TrimEnd('/')}/api/labeling/webhooks/label-studio", hook.Url);
        Assert.Contains("ANNOTATION_CREATED", hook.Actions);
    }

    [Fact]
    public async Task Predictions_land_on_the_regions_of_the_blocks_in_percent_of_the_page_from_the_top_left()
    {
        await using var s = await Scenario.StartAsync();
        var id = Documents.NewId();
        // A Letter page (612 x 792 pt) with one section header at left 72, bottom 600, right 540, top 720 (origin bottom-left).
        s.Ingest.Add(new DocumentResult
        {
            DocumentId = id,
            FileName = "known.pdf",
            PageCount = 1,
            Pages = [new ResultPage(1, 612, 792, [new ResultBlock("b1", 1, "section_header", "1. Introduction", new BoundingBox(72, 600, 540, 720))])],
            ReadingOrder = ["b1"],
            Stages = [],
        });

        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);

        var region = Assert.Single(Assert.Single(Assert.Single(s.TasksOf(id)).Predictions).Result)!.AsObject();
        var value = region["value"]!.AsObject();
        Assert.Equal("rectanglelabels", region["type"]!.GetValue<string>());
        Assert.Equal("label", region["from_name"]!.GetValue<string>());
        Assert.Equal("image", region["to_name"]!.GetValue<string>());
        Assert.Equal(["Section-header"], value["rectanglelabels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(72 / 612.0 * 100, value["x"]!.GetValue<double>(), 3);             // 11.765
        Assert.Equal((792 - 720) / 792.0 * 100, value["y"]!.GetValue<double>(), 3);     // 9.091
        Assert.Equal((540 - 72) / 612.0 * 100, value["width"]!.GetValue<double>(), 3);  // 76.471
        Assert.Equal((720 - 600) / 792.0 * 100, value["height"]!.GetValue<double>(), 3); // 15.152
        // Without a rendered image in the result, the page image is taken at 2 px per point (the default render scale).
        Assert.Equal(1224, region["original_width"]!.GetValue<int>());
        Assert.Equal(1584, region["original_height"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_original_size_of_a_region_is_the_rendered_page_image_when_the_result_has_one()
    {
        await using var s = await Scenario.StartAsync();
        var id = Documents.NewId();
        s.Ingest.Add(new DocumentResult
        {
            DocumentId = id,
            FileName = "rendered.pdf",
            PageCount = 1,
            Pages =
            [
                new ResultPage(1, 612, 792, [new ResultBlock("b1", 1, "picture", "", new BoundingBox(0, 0, 306, 396))])
                {
                    Image = new PageImage(ArtifactRoutes.PageImage(id, 1), 1700, 2200, 200),
                },
            ],
            ReadingOrder = ["b1"],
            Stages = [],
        });

        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);

        var task = Assert.Single(s.TasksOf(id));
        var region = Assert.Single(Assert.Single(task.Predictions).Result)!.AsObject();
        Assert.Equal((1700, 2200), (region["original_width"]!.GetValue<int>(), region["original_height"]!.GetValue<int>()));
        Assert.Equal(50, region["value"]!["y"]!.GetValue<double>(), 3);
        Assert.Equal(["Picture"], region["value"]!["rectanglelabels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.EndsWith(ArtifactRoutes.PageImage(id, 1), task.Data["image"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exporting_a_document_again_adds_no_task_and_a_restarted_bridge_reuses_the_project_it_remembered()
    {
        var dataDir = Directory.CreateTempSubdirectory("bridge-restart-").FullName;
        void SameDeployment(Dictionary<string, string?> c)
        {
            c["Outbox:DatabasePath"] = Path.Combine(dataDir, "outbox.db");
            c["Bridge:WebhookUrl"] = "http://127.0.0.1:9/api/labeling/webhooks/label-studio";
        }

        await using var emulator = await EmulatorServer.StartAsync();
        try
        {
            await using (var s = await Scenario.StartAsync(SameDeployment, sharedEmulator: emulator))
            {
                var id = s.AddDocument(pages: 2);
                await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);
                var again = await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);
                Assert.Equal(0, again.GetProperty("labelStudio").GetProperty("tasksCreated").GetInt32());
                Assert.Equal(2, again.GetProperty("labelStudio").GetProperty("tasksExisting").GetInt32());
                Assert.Equal(2, s.TasksOf(id).Count);
            }

            var restartedAt = DateTimeOffset.UtcNow;
            await using var restarted = await Scenario.StartAsync(SameDeployment, sharedEmulator: emulator);
            var other = restarted.AddDocument(pages: 1);
            await restarted.WaitForExportAsync(await restarted.RequestExportAsync(other), "delivered", Wait);

            var project = Assert.Single(emulator.Store.Projects(null));
            Assert.Single(restarted.TasksOf(other));
            var since = emulator.Requests.Since(restartedAt);
            Assert.Contains(since, r => r.Method == "GET" && r.Path == $"/api/projects/{project.Id}/");
            Assert.DoesNotContain(since, r => r.Method == "POST" && r.Path == "/api/projects/");
            Assert.DoesNotContain(since, r => r.Method == "POST" && r.Path == "/api/webhooks/");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Exports_are_refused_with_problems_for_unknown_and_unfinished_documents()
    {
        await using var s = await Scenario.StartAsync();
        var unfinished = s.AddDocument();
        s.Ingest.SetStatus(unfinished, DocumentStatus.Processing);

        using var missing = await s.Client.PostAsync(new Uri("/api/documents/nope123/exports/label-studio", UriKind.Relative), null);
        using var notReady = await s.Client.PostAsync(new Uri($"/api/documents/{unfinished}/exports/label-studio", UriKind.Relative), null);
        using var invalid = await s.Client.PostAsync(new Uri("/api/documents/bad%20id/exports/label-studio", UriKind.Relative), null);
        using var unknownExport = await s.Client.GetAsync(new Uri("/api/exports/exp_nothing", UriKind.Relative));

        await AssertProblem(missing, HttpStatusCode.NotFound, "document_not_found");
        await AssertProblem(notReady, HttpStatusCode.Conflict, "document_not_ready");
        await AssertProblem(invalid, HttpStatusCode.BadRequest, "invalid_document_id");
        await AssertProblem(unknownExport, HttpStatusCode.NotFound, "export_not_found");
    }

    [Fact]
    public async Task Imports_answered_asynchronously_by_non_community_editions_are_followed_until_completed()
    {
        await using var s = await Scenario.StartAsync(emulatorSettings: new EmulatorSettings { AsyncImports = true, AsyncImportCompletionSeconds = 0.5 });
        var id = s.AddDocument(pages: 3);

        var export = await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);

        Assert.Equal(3, export.GetProperty("labelStudio").GetProperty("tasksCreated").GetInt32());
        Assert.Equal(3, s.TasksOf(id).Count);
        Assert.Contains(s.Emulator.Requests.Snapshot(), r => r.Path.Contains("/imports/", StringComparison.Ordinal));
    }

    internal static async Task<JsonObject> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(code, json["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(json["detail"]?.GetValue<string>()));
        Assert.NotNull(json["traceId"]);
        return json;
    }
}
