using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// Job priorities through the real suite (Req LS-2): with batch documents waiting behind two busy workers, an
/// interactive upload is taken first and completes before every batch document that was still waiting when it was
/// uploaded. Each batch document spends 4 s in one stage (fault injection), so the backlog is real however fast the
/// machine; the interactive one has no such delay.
/// </summary>
[Collection("pipeline-suite")]
public sealed class PrioritySuiteTests : IAsyncLifetime
{
    private const int BatchDocuments = 6;
    private ChaosApp _app = null!;

    public async Task InitializeAsync() => _app = await ChaosApp.StartAsync(workers: 2);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task With_batch_documents_waiting_an_interactive_upload_completes_before_them()
    {
        var app = _app;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.ReadingOrder, "slow", "prio-batch-*", Seconds: 4));
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        var batch = new List<string>();
        for (var i = 0; i < BatchDocuments; i++)
        {
            batch.Add(await UploadAsync(pdf, $"prio-batch-{i}.pdf", "batch"));
        }

        // Both workers busy with a batch document each; the others wait.
        await Eventually.UntilAsync(async () =>
        {
            var statuses = await app.StatusesAsync();
            return batch.Count(id => statuses[id] == DocumentStatus.Processing) == app.WorkerCount;
        }, TimeSpan.FromMinutes(2), "both workers hold a batch document\n" + app.Diagnostics(), TimeSpan.FromMilliseconds(100));

        var interactive = await UploadAsync(pdf, "prio-interactive.pdf", null);
        // Queued after the upload answered means queued when it was uploaded (nothing goes back to queued here).
        var afterUpload = await app.StatusesAsync();
        var waiting = batch.Where(id => afterUpload[id] == DocumentStatus.Queued).ToList();
        Assert.True(waiting.Count >= 2, $"only {waiting.Count} batch documents were still waiting");

        foreach (var id in batch.Append(interactive))
        {
            var document = await app.WaitForTerminalAsync(id, TimeSpan.FromMinutes(3));
            Assert.True(RunningSuite.Status(document) == DocumentStatus.Completed, $"{document}\n{app.Diagnostics()}");
        }

        Assert.Equal("interactive", (await app.GetDocumentAsync(interactive)).GetProperty("priority").GetString());
        Assert.Equal("batch", (await app.GetDocumentAsync(waiting[0])).GetProperty("priority").GetString());
        var interactiveDone = await CompletedAtAsync(interactive);
        foreach (var id in waiting)
        {
            var batchDone = await CompletedAtAsync(id);
            Assert.True(interactiveDone < batchDone, $"interactive completed at {interactiveDone:O}, batch {id} waiting at its upload completed at {batchDone:O}");
        }

        // Each batch job stayed in Redis while it waited: the sweeper never had to queue one again.
        foreach (var id in batch)
        {
            Assert.DoesNotContain(await app.EventsAsync(id), e => e.Kind == DocumentEventKinds.Requeued);
        }

        await app.SetFaultsAsync();
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<DateTimeOffset> CompletedAtAsync(string id) =>
        (await _app.EventsAsync(id)).Single(e => e.Kind == DocumentEventKinds.Completed).At;

    /// <summary>Uploads through the gateway with <c>?priority=</c> (none when null) and returns the id (asserting 202).</summary>
    private async Task<string> UploadAsync(byte[] content, string fileName, string? priority)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", fileName);
        var uri = "/api/documents" + (priority is null ? "" : "?priority=" + priority);
        using var response = await _app.Gateway.PostAsync(new Uri(uri, UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload of {fileName}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(priority ?? "interactive", json.RootElement.GetProperty("priority").GetString());
        return json.RootElement.GetProperty("id").GetString()!;
    }
}
