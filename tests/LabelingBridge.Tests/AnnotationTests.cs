using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelingBridge.Tests.Infrastructure;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>Annotations back: webhooks with the shared secret, idempotent replays, reconciliation of dropped webhooks.</summary>
public sealed class AnnotationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>An annotator draws one Table region at the prediction's place on the first page.</summary>
    private static JsonArray TableRegion() => new(new JsonObject
    {
        ["id"] = "a1",
        ["type"] = "rectanglelabels",
        ["from_name"] = "label",
        ["to_name"] = "image",
        ["original_width"] = 1224,
        ["original_height"] = 1584,
        ["value"] = new JsonObject
        {
            ["x"] = 100 / 612.0 * 100,
            ["y"] = (792 - 380) / 792.0 * 100,
            ["width"] = 400 / 612.0 * 100,
            ["height"] = 280 / 792.0 * 100,
            ["rotation"] = 0,
            ["rectanglelabels"] = new JsonArray("Table"),
        },
    });

    private static async Task<(string Document, int TaskId)> ExportedPageAsync(Scenario s)
    {
        var id = s.AddDocument(pages: 1);
        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);
        return (id, Assert.Single(s.TasksOf(id)).Id);
    }

    private static async Task<JsonElement> AnnotationsAsync(Scenario s, string document) =>
        await s.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/documents/{document}/annotations", UriKind.Relative));

    [Fact]
    [Trait("Req", "SEC-3")]
    public async Task An_annotation_comes_back_through_the_webhook_with_its_regions_in_PDF_points()
    {
        await using var s = await Scenario.StartAsync();
        var (document, task) = await ExportedPageAsync(s);

        var created = await s.Emulator.Actions.CreateAnnotationAsync(task, TableRegion());

        var hook = Assert.Single(created!.Value.Webhooks);
        Assert.Equal(("sent", (int?)200), (hook.Outcome, hook.Status));
        var annotations = await AnnotationsAsync(s, document);
        var annotation = Assert.Single(annotations.GetProperty("annotations").EnumerateArray());
        Assert.Equal("webhook", annotation.GetProperty("source").GetString());
        Assert.Equal(task, annotation.GetProperty("taskId").GetInt32());
        Assert.Equal(1, annotation.GetProperty("pageNo").GetInt32());
        var region = Assert.Single(annotation.GetProperty("regions").EnumerateArray());
        Assert.Equal("Table", region.GetProperty("label").GetString());
        var box = region.GetProperty("boundingBox");
        Assert.Equal(100, box.GetProperty("left").GetDouble(), 2);
        Assert.Equal(100, box.GetProperty("bottom").GetDouble(), 2);
        Assert.Equal(500, box.GetProperty("right").GetDouble(), 2);
        Assert.Equal(380, box.GetProperty("top").GetDouble(), 2);
    }

    [Fact]
    [Trait("Req", "SEC-3")]
    public async Task Dropped_webhooks_are_caught_up_by_reconciliation()
    {
        await using var s = await Scenario.StartAsync(c => c["Bridge:ReconcileIntervalSeconds"] = "0.5");
        var (document, task) = await ExportedPageAsync(s);
        s.Emulator.Faults.DropWebhooks = true;

        var created = await s.Emulator.Actions.CreateAnnotationAsync(task, TableRegion());

        Assert.Equal("dropped", Assert.Single(created!.Value.Webhooks).Outcome);
        await Eventually.UntilAsync(async () => (await AnnotationsAsync(s, document)).GetProperty("count").GetInt32() == 1, Wait, "reconciliation stored the annotation");
        var annotation = Assert.Single((await AnnotationsAsync(s, document)).GetProperty("annotations").EnumerateArray());
        Assert.Equal("reconciliation", annotation.GetProperty("source").GetString());
        Assert.Contains(s.Emulator.Requests.Snapshot(), r => r.Path == "/api/tasks/" && r.Status == 404);
        Assert.True(s.Metrics.Sum("labeling_bridge.annotations.received", "source", "reconciliation") >= 1);
    }

    [Fact]
    [Trait("Req", "SEC-3")]
    public async Task A_webhook_replayed_twice_stores_one_annotation_and_one_without_the_secret_is_refused_with_401()
    {
        await using var s = await Scenario.StartAsync();
        var (document, task) = await ExportedPageAsync(s);
        s.Emulator.Faults.DropWebhooks = true;
        var created = await s.Emulator.Actions.CreateAnnotationAsync(task, TableRegion());
        var payload = s.Emulator.Actions.AnnotationCreatedPayload(created!.Value.Annotation["id"]!.GetValue<int>()).ToJsonString();

        using var noSecret = await PostWebhookAsync(s, payload, secret: null);
        using var wrongSecret = await PostWebhookAsync(s, payload, secret: "not-the-secret-at-all");
        await ExportDeliveryTests.AssertProblem(noSecret, HttpStatusCode.Unauthorized, "webhook_unauthorized");
        await ExportDeliveryTests.AssertProblem(wrongSecret, HttpStatusCode.Unauthorized, "webhook_unauthorized");
        Assert.Equal(0, (await AnnotationsAsync(s, document)).GetProperty("count").GetInt32());

        using var first = await PostWebhookAsync(s, payload, Scenario.WebhookSecret);
        using var replay = await PostWebhookAsync(s, payload, Scenario.WebhookSecret);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("stored", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal("unchanged", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(1, (await AnnotationsAsync(s, document)).GetProperty("count").GetInt32());
    }

    private static Task<HttpResponseMessage> PostWebhookAsync(Scenario s, string payload, string? secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/labeling/webhooks/label-studio", UriKind.Relative))
        {
            Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
        };
        if (secret is not null)
        {
            request.Headers.Add("X-Suite-Webhook-Secret", secret);
        }

        return s.Client.SendAsync(request);
    }
}
