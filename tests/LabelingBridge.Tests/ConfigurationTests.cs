using System.Net;
using LabelingBridge.Tests.Infrastructure;
using Suite.Contracts;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>Switching the integration off, refusing bad configuration at start-up, and auto-export.</summary>
public sealed class ConfigurationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    [Trait("Req", "DEG-6")]
    public async Task With_Label_Studio_switched_off_exports_answer_503_and_readiness_is_healthy_saying_so()
    {
        await using var s = await Scenario.StartAsync(c =>
        {
            c["LabelStudio:Enabled"] = "false";
            c["LabelStudio:Url"] = null;
            c["LabelStudio:ApiKey"] = null;
        });

        using var response = await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument()}/exports/label-studio", UriKind.Relative), null);

        var problem = await ExportDeliveryTests.AssertProblem(response, HttpStatusCode.ServiceUnavailable, "label_studio_disabled");
        Assert.Contains("LabelStudio__Enabled", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var (status, ready) = await s.ReadinessAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        var check = ready.GetProperty("checks").GetProperty("label-studio");
        Assert.Equal("Healthy", check.GetProperty("status").GetString());
        Assert.False(check.GetProperty("data").GetProperty("enabled").GetBoolean());
        Assert.Equal(0, s.Emulator.Requests.Count);
    }

    [Theory]
    [Trait("Req", "SU-1")]
    [InlineData("LabelStudio:ApiKey", "", "LabelStudio:ApiKey")]
    [InlineData("LabelStudio:Url", "not a url", "LabelStudio:Url")]
    [InlineData("Bridge:WebhookSecret", "short", "Bridge:WebhookSecret")]
    [InlineData("LabelStudio:Timeouts:AttemptSeconds", "99", "AttemptSeconds")]
    [InlineData("Outbox:BusyTimeoutMilliseconds", "60000", "Outbox:BusyTimeoutMilliseconds")]
    public async Task Invalid_configuration_stops_the_bridge_at_start_up_naming_the_setting(string key, string value, string named)
    {
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var s = await Scenario.StartAsync(c => c[key] = value);
        });

        Assert.NotNull(error);
        var message = error.ToString();
        Assert.True(message.Contains(named, StringComparison.Ordinal), message);
    }

    [Fact]
    public async Task Auto_export_queues_each_newly_completed_document_once()
    {
        await using var s = await Scenario.StartAsync(c =>
        {
            c["Bridge:AutoExport"] = "true";
            c["Bridge:AutoExportPollSeconds"] = "0.3";
            c["Bridge:AutoExportPageSize"] = "2";
        });
        var done = s.AddDocument(pages: 1);
        var later = s.AddDocument(pages: 2);
        s.Ingest.SetStatus(later, DocumentStatus.Processing);

        await Eventually.UntilAsync(() => s.TasksOf(done).Count == 1, Wait, "the completed document is exported without a request");
        Assert.Empty(s.TasksOf(later));

        s.Ingest.SetStatus(later, DocumentStatus.Completed);
        await Eventually.UntilAsync(() => s.TasksOf(later).Count == 2, Wait, "the document is exported once it completes");

        using var list = await s.Client.GetAsync(new Uri($"/api/documents/{done}/exports", UriKind.Relative));
        var body = await list.Content.ReadAsStringAsync();
        Assert.Contains("\"trigger\":\"auto\"", body, StringComparison.Ordinal);
        Assert.Single(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("exports").EnumerateArray());
    }
}

/// <summary>The wiring the AppHost uses: Label Studio found by service discovery under the name label-studio.</summary>
public sealed class ServiceDiscoveryTests
{
    [Fact]
    public async Task Label_Studio_can_be_addressed_by_its_resource_name_through_service_discovery()
    {
        await using var emulator = await LabelStudioEmulator.EmulatorServer.StartAsync();
        await using var s = await Scenario.StartAsync(c =>
        {
            c["LabelStudio:Url"] = "http://label-studio";
            c["services:label-studio:http:0"] = emulator.Url.ToString().TrimEnd('/');
        }, sharedEmulator: emulator);
        var id = s.AddDocument(pages: 2);

        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", TimeSpan.FromSeconds(20));

        Assert.Equal(2, s.TasksOf(id).Count);
        using var probe = new HttpClient { BaseAddress = emulator.Url };
        Assert.True((await probe.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);
    }
}
