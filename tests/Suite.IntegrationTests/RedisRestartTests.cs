using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>redis-server killed with SIGKILL in the middle of a run and restarted from its AOF by the AppHost.</summary>
[Collection("chaos")]
public sealed class RedisRestartTests(ChaosFixture fixture, ITestOutputHelper output)
{
    [Fact]
    [Trait("Req", "JOB-4")]
    [Trait("Req", "JOB-7")]
    [Trait("Req", "JOB-2")]
    public async Task Redis_killed_mid_run_loses_no_accepted_job_and_every_service_reconnects_by_itself()
    {
        var app = fixture.App;
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        // Every stage a little slower, so the kill lands while documents are in flight.
        await app.SetFaultsAsync(new FaultSpec("*", "slow", "redis-*.pdf", Seconds: 0.3));
        var ids = new List<string>();
        for (var i = 0; i < 15; i++)
        {
            ids.Add(await app.UploadAcceptedAsync(pdf, $"redis-{i}.pdf"));
        }

        await Eventually.UntilAsync(async () =>
        {
            var statuses = await Task.WhenAll(ids.Select(async id => ChaosApp.Status(await app.GetDocumentAsync(id))));
            return statuses.Count(s => s == DocumentStatus.Completed) >= 2;
        }, TimeSpan.FromSeconds(90), "a first few documents complete");

        var before = app.App.GetReplicas("redis")[0].ProcessId;
        await app.App.KillReplicaAsync("redis", 0);
        output.WriteLine($"redis pid {before} killed");

        // Accepted while Redis is down or replaying its AOF: the catalog holds them, the sweeper queues them.
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await app.UploadAcceptedAsync(pdf, $"redis-late-{i}.pdf"));
        }

        await app.App.WaitForHealthyAsync("redis", TimeSpan.FromSeconds(60));
        output.WriteLine($"redis back as pid {app.App.GetReplicas("redis")[0].ProcessId}");

        foreach (var id in ids)
        {
            var document = await app.WaitForTerminalAsync(id, TimeSpan.FromMinutes(2));
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{id}: {document}\n{app.Diagnostics()}");
            Assert.Single(await app.EventsAsync(id), e => e.Kind == DocumentEventKinds.Completed);
        }

        // Everyone reconnected on their own: ready again, and a document uploaded now goes through.
        await app.App.WaitForHealthyAsync("ingest", TimeSpan.FromSeconds(60));
        await app.App.WaitForHealthyAsync(ChaosApp.Workers, TimeSpan.FromSeconds(60));
        await app.SetFaultsAsync();
        var after = await app.UploadAcceptedAsync(pdf, "after-redis-restart.pdf");
        Assert.Equal(DocumentStatus.Completed, ChaosApp.Status(await app.WaitForTerminalAsync(after, TimeSpan.FromSeconds(60))));
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(60));
    }
}
