using System.Net;
using System.Text.Json;

namespace Suite.IntegrationTests;

/// <summary>
/// A completed document exported through the gateway to Label Studio — the emulator the AppHost starts as the
/// "labelstudio" resource when no real one is configured — one task per page.
/// </summary>
[Collection("suite")]
public sealed class LabelStudioExportTests(SuiteFixture suite)
{
    [Fact]
    public async Task A_completed_document_exported_through_the_gateway_is_delivered_as_one_task_per_page()
    {
        var file = RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf");
        var id = await suite.UploadAcceptedAsync(file);
        var document = await suite.WaitForTerminalAsync(id, TimeSpan.FromMinutes(3));
        Assert.True(document.GetProperty("status").GetString() == "completed", $"{document}\n{suite.Diagnostics()}");

        using var accepted = await suite.Gateway.PostAsync(new Uri($"/api/documents/{id}/exports/label-studio", UriKind.Relative), null);
        var body = await accepted.Content.ReadAsStringAsync();
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{(int)accepted.StatusCode} {body}");
        var exportUrl = accepted.Headers.Location ?? throw new InvalidOperationException("no Location header");

        JsonElement export = default;
        await Eventually.UntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await suite.Gateway.GetStringAsync(exportUrl));
            export = json.RootElement.Clone();
            return export.GetProperty("state").GetString() is "delivered" or "failed";
        }, TimeSpan.FromMinutes(1), $"export of {id} delivered");

        Assert.True(export.GetProperty("state").GetString() == "delivered", $"{export}\n{suite.Diagnostics()}");
        var labelStudio = export.GetProperty("labelStudio");
        Assert.Equal(4, labelStudio.GetProperty("tasksCreated").GetInt32() + labelStudio.GetProperty("tasksExisting").GetInt32());
        Assert.Contains(suite.App.GetReplicas("labelstudio"), r => r.ProcessId is not null);
    }
}
