using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>kill -9 of the worker in every stage of the pipeline, on the real topology.</summary>
[Collection("chaos")]
public sealed class WorkerKillTests(ChaosFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    [Trait("Req", "JOB-1")]
    [Trait("Req", "JOB-2")]
    [Trait("Req", "CK-5")]
    public async Task A_worker_killed_in_any_stage_loses_nothing_another_worker_resumes_from_the_last_checkpoint_with_one_result()
    {
        var app = fixture.App;
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        var restarts = new List<Task>();
        foreach (var (stage, index) in PipelineStageNames.All.Select((stage, index) => (stage, index)))
        {
            // The stage is held open on the first attempt only, so the kill lands inside it.
            var fileName = $"kill-in-{stage}.pdf";
            await app.SetFaultsAsync(new FaultSpec(stage, "slow", fileName, Seconds: 45, MaxAttempt: 1));
            var id = await app.UploadAcceptedAsync(pdf, fileName);
            await app.WaitForStageRunningAsync(id, stage, Patience);
            var victim = await app.LeaseHolderAsync(id);

            var clock = Stopwatch.StartNew();
            await app.KillAndHoldAsync(victim);
            JsonElement document;
            try
            {
                document = await app.WaitForTerminalAsync(id, Patience);
            }
            catch (TimeoutException ex)
            {
                // The full console output of every process, for the post-mortem of a kill that went wrong.
                var folder = Path.Combine(Path.GetTempPath(), "chaos-logs-" + Guid.NewGuid().ToString("N")[..8]);
                app.DumpLogs(folder);
                throw new TimeoutException($"{ex.Message}\nAll logs: {folder}", ex);
            }

            output.WriteLine($"{stage}: worker {victim} killed; completed by another worker {clock.Elapsed.TotalSeconds:F1} s later");
            restarts.Add(app.RestartAsync(victim));

            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{stage}: {document}\n{app.Diagnostics()}");
            var history = await app.EventsAsync(id);
            var claims = history.Where(e => e.Kind == DocumentEventKinds.Claimed).ToList();
            Assert.Equal(2, claims.Count);
            Assert.Equal(app.App.GetReplica(ChaosApp.Workers, victim).Id, claims[0].Worker);
            Assert.NotEqual(claims[0].Worker, claims[1].Worker);

            // The killed worker stored the stages before the kill; the new owner started at the killed stage, never
            // from stage one (unless stage one was the one killed), and stored each later stage once.
            var before = history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == claims[0].LeaseToken).Select(e => e.Stage);
            var after = history.Where(e => e.Kind == DocumentEventKinds.Checkpoint && e.LeaseToken == claims[1].LeaseToken).Select(e => e.Stage);
            Assert.Equal(PipelineStageNames.All.Take(index), before);
            Assert.Equal(PipelineStageNames.All.Skip(index), after);

            // Exactly one result, stored by the new owner.
            var completed = Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);
            Assert.Equal(claims[1].LeaseToken, completed.LeaseToken);
            using var result = await app.Gateway.GetAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        await app.SetFaultsAsync();
        await Task.WhenAll(restarts);
        await using var redis = await app.ConnectRedisAsync();
        await Eventually.UntilAsync(async () => await redis.GetDatabase().StreamLengthAsync(JobStreams.Jobs) == 0,
            TimeSpan.FromSeconds(30), "every job entry is acknowledged and deleted");
    }
}
