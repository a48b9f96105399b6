using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>A worker paused (SIGSTOP) past the visibility timeout, then resumed (SIGCONT): a zombie owner.</summary>
[Collection("chaos")]
public sealed class StaleWorkerTests(ChaosFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    [Trait("Req", "CK-4")]
    [Trait("Req", "JOB-6")]
    [Trait("Req", "JOB-2")]
    public async Task A_worker_paused_past_the_visibility_timeout_cannot_overwrite_the_new_owners_checkpoints_when_it_wakes_up()
    {
        var app = fixture.App;
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Tables, "slow", "stale-owner.pdf", Seconds: 4, MaxAttempt: 1));
        var id = await app.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), "stale-owner.pdf");
        await app.WaitForStageRunningAsync(id, PipelineStageNames.Tables, Patience);
        var paused = await app.LeaseHolderAsync(id);

        await app.SignalAsync(paused, "STOP");
        try
        {
            // Another worker reclaims the idle entry, takes a newer lease and finishes the document.
            var document = await app.WaitForTerminalAsync(id, Patience);
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{document}\n{app.Diagnostics()}");
        }
        finally
        {
            await app.SignalAsync(paused, "CONT");
        }

        // Awake, the old owner finishes its stage and tries to go on with lease 1: refused at the door.
        await Eventually.UntilAsync(async () => (await app.EventsAsync(id)).Any(e => e.Kind == DocumentEventKinds.StaleLeaseRefused && e.LeaseToken == 1),
            TimeSpan.FromSeconds(30), "the resumed worker's write with the old lease is refused\n" + app.Diagnostics());
        var history = await app.EventsAsync(id);
        foreach (var refused in history.Where(e => e.Kind == DocumentEventKinds.StaleLeaseRefused))
        {
            output.WriteLine($"refused: {refused.Detail}");
        }

        var claims = history.Where(e => e.Kind == DocumentEventKinds.Claimed).ToList();
        Assert.Equal(2, claims.Count);
        Assert.Equal(app.App.GetReplica(ChaosApp.Workers, paused).Id, claims[0].Worker);
        Assert.NotEqual(claims[0].Worker, claims[1].Worker);

        // Nothing of lease 1 was stored after the takeover; every checkpoint from tables on is the new owner's, on disk too.
        Assert.DoesNotContain(history, e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == 1 && e.Seq > claims[1].Seq);
        var tablesIndex = PipelineStageNames.All.ToList().IndexOf(PipelineStageNames.Tables);
        foreach (var stage in PipelineStageNames.All.Skip(tablesIndex))
        {
            Assert.Equal(claims[1].LeaseToken, app.CheckpointLeaseOnDisk(id, stage));
        }

        var completed = Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);
        Assert.Equal(claims[1].LeaseToken, completed.LeaseToken);

        // The woken worker gave the job up and goes on serving.
        await Eventually.UntilAsync(() => app.App.GetRecentLogs(ChaosApp.Workers, paused).Contains("lease", StringComparison.Ordinal)
                && app.App.GetRecentLogs(ChaosApp.Workers, paused).Contains("lost", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the resumed worker logs its lost lease");
        await app.SetFaultsAsync();
        await app.App.WaitForHealthyAsync(ChaosApp.Workers, TimeSpan.FromSeconds(60));
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(30));
    }
}
