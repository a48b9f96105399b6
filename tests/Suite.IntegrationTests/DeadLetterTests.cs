using System.Net;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>A poison document that crashes (Environment.FailFast) every worker that touches it.</summary>
[Collection("chaos")]
public sealed class DeadLetterTests(ChaosFixture fixture)
{
    [Fact]
    [Trait("Req", "JOB-3")]
    [Trait("Req", "JOB-1")]
    public async Task A_document_that_crashes_every_worker_is_dead_lettered_with_its_reason_and_retry_works_once_the_fault_is_gone()
    {
        var app = fixture.App;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Layout, "crash", "poison-*.pdf"));
        var id = await app.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), "poison-1.pdf");

        var document = await app.WaitForTerminalAsync(id, TimeSpan.FromMinutes(3));

        // Five deliveries crashed a worker in layout; the sixth gave up without running anything.
        Assert.True(ChaosApp.Status(document) == DocumentStatus.Failed, $"{document}\n{app.Diagnostics()}");
        var error = document.GetProperty("error");
        Assert.Equal(DeliveryErrorCodes.DeadLettered, error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("Gave up after 6 deliveries", message, StringComparison.Ordinal);
        Assert.Contains("stopped during stage layout", message, StringComparison.Ordinal);
        var history = await app.EventsAsync(id);
        Assert.Equal(6, history.Count(e => e.Kind == DocumentEventKinds.Claimed));
        Assert.DoesNotContain(history, e => e.Kind == DocumentEventKinds.Checkpoint && e.Stage == PipelineStageNames.Layout);

        // Visible in the dead-letter stream, gone from the jobs stream.
        await using (var redis = await app.ConnectRedisAsync())
        {
            var db = redis.GetDatabase();
            var dead = (await db.StreamRangeAsync(JobStreams.DeadLetters, "-", "+")).Where(e => e[JobStreams.DocumentIdField] == id).ToList();
            var letter = Assert.Single(dead);
            Assert.Equal("6", letter[JobStreams.DeliveriesField]);
            Assert.Contains("stopped during stage layout", letter[JobStreams.ReasonField].ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(await db.StreamRangeAsync(JobStreams.Jobs, "-", "+"), e => e[JobStreams.DocumentIdField] == id);
        }

        // The fault is fixed: a retry by hand resumes from the last valid checkpoint and completes.
        await app.SetFaultsAsync();
        using (var retry = await app.Gateway.PostAsync(new Uri($"/api/documents/{id}/retry", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }

        document = await app.WaitForTerminalAsync(id, TimeSpan.FromSeconds(90));
        Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{document}\n{app.Diagnostics()}");
        history = await app.EventsAsync(id);
        var retried = history.Single(e => e.Kind == DocumentEventKinds.Retried);
        var resumed = history.Single(e => e.Kind == DocumentEventKinds.Claimed && e.Seq > retried.Seq);
        var layoutIndex = PipelineStageNames.All.ToList().IndexOf(PipelineStageNames.Layout);
        Assert.Equal(PipelineStageNames.All.Skip(layoutIndex),
            history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == resumed.LeaseToken).Select(e => e.Stage));
        Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);
        // The crashed workers were restarted by the AppHost (with its backoff).
        await app.App.WaitForHealthyAsync(ChaosApp.Workers, TimeSpan.FromSeconds(90));
    }
}
