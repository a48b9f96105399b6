using System.Net;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>Cancel through the public API while a worker runs the document, and a worker stopped with SIGTERM mid-stage.</summary>
[Collection("chaos")]
public sealed class CancelAndShutdownTests(ChaosFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    [Trait("Req", "JOB-5")]
    public async Task A_document_cancelled_while_processing_ends_cancelled_and_the_worker_stops_within_the_stage()
    {
        var app = fixture.App;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Layout, "slow", "cancel-me.pdf", Seconds: 60));
        var id = await app.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), "cancel-me.pdf");
        await app.WaitForStageRunningAsync(id, PipelineStageNames.Layout, Patience);
        var holder = await app.LeaseHolderAsync(id);

        using (var cancel = await app.Gateway.DeleteAsync(new Uri($"/api/documents/{id}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            using var body = JsonDocument.Parse(await cancel.Content.ReadAsStringAsync());
            Assert.Equal("cancelled", body.RootElement.GetProperty("status").GetString());
        }

        // The worker notices at its next lease renewal (every second here), long before the 60 s stage would end.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.UntilAsync(() => app.App.GetRecentLogs(ChaosApp.Workers, holder).Contains($"Document {id} was cancelled while in stage layout", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the worker stops the cancelled document\n" + app.Diagnostics());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {clock.Elapsed.TotalSeconds:F1} s");
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(30));

        var document = await app.GetDocumentAsync(id);
        Assert.Equal(DocumentStatus.Cancelled, ChaosApp.Status(document));
        var history = await app.EventsAsync(id);
        var cancelled = history.Single(e => e.Kind == DocumentEventKinds.Cancelled);
        Assert.DoesNotContain(history, e => e.Kind is DocumentEventKinds.Checkpoint or DocumentEventKinds.Completed && e.Seq > cancelled.Seq);
        using var result = await app.Gateway.GetAsync(new Uri($"/api/documents/{id}/result", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, result.StatusCode);
        await app.SetFaultsAsync();
    }

    [Fact]
    [Trait("Req", "SD-2")]
    [Trait("Req", "JOB-1")]
    public async Task A_worker_stopped_with_sigterm_mid_stage_abandons_the_stage_acknowledges_nothing_and_another_worker_resumes()
    {
        var app = fixture.App;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.ReadingOrder, "slow", "sigterm.pdf", Seconds: 45, MaxAttempt: 1));
        var id = await app.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), "sigterm.pdf");
        await app.WaitForStageRunningAsync(id, PipelineStageNames.ReadingOrder, Patience);
        var holder = await app.LeaseHolderAsync(id);

        await app.App.StopReplicaAsync(ChaosApp.Workers, holder);

        var stopped = app.App.GetReplicas(ChaosApp.Workers)[holder];
        Assert.Equal(0, stopped.ExitCode);
        Assert.Contains($"Document {id}: stopping in stage reading-order, the job stays pending for another worker",
            app.App.GetRecentLogs(ChaosApp.Workers, holder), StringComparison.Ordinal);
        var document = await app.WaitForTerminalAsync(id, Patience);
        var restart = app.RestartAsync(holder);
        Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{document}\n{app.Diagnostics()}");

        var history = await app.EventsAsync(id);
        var claims = history.Where(e => e.Kind == DocumentEventKinds.Claimed).ToList();
        Assert.Equal(2, claims.Count);
        var index = PipelineStageNames.All.ToList().IndexOf(PipelineStageNames.ReadingOrder);
        Assert.Equal(PipelineStageNames.All.Skip(index),
            history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == claims[1].LeaseToken).Select(e => e.Stage));
        await app.SetFaultsAsync();
        await restart;
    }
}
