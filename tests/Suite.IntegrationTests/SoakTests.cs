using System.Diagnostics;
using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>
/// A bounded soak: 3 workers, 100 documents, a random worker killed (SIGKILL) every 3 s and started again while there
/// is work, for at most 100 s; then the rest drains. Then the invariant of the product is checked on everything.
/// </summary>
[Collection("soak")]
public sealed class SoakTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Documents = 100;
    private static readonly TimeSpan KillEvery = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan KillPhase = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);
    private ChaosApp _app = null!;

    public async Task InitializeAsync() =>
        // More deliveries than the default 5: a document may be hit by several of the ~50 kills in a row.
        _app = await ChaosApp.StartAsync(workers: 3, workerSettings: new Dictionary<string, string> { ["Worker__MaxDeliveries"] = "12" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    [Trait("Req", "JOB-1")]
    [Trait("Req", "JOB-2")]
    [Trait("Req", "SD-2")]
    [Trait("Req", "FS-3")]
    public async Task Under_random_worker_kills_every_document_ends_terminal_once_with_nothing_pending_or_left_behind()
    {
        var app = _app;
        // Each document spends a second in one stage, so the run lasts long enough for the kills to land mid-document
        // however fast the machine is (an idle machine drained all 100 in 24 s, before 8 kills could happen).
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.ReadingOrder, "slow", "soak-*", Seconds: 1));
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        var clock = Stopwatch.StartNew();
        var ids = new List<string>();
        for (var i = 0; i < Documents; i++)
        {
            ids.Add(await app.UploadAcceptedAsync(pdf, $"soak-{i}.pdf"));
        }

        output.WriteLine($"{Documents} uploaded in {clock.Elapsed.TotalSeconds:F1} s");
        var pending = new HashSet<string>(ids);
        var restarts = new Dictionary<int, Task>();
        var kills = 0;
        var nextKill = clock.Elapsed + KillEvery;
        while (pending.Count > 0 && clock.Elapsed < Bound)
        {
            var statuses = await app.StatusesAsync();
            pending.RemoveWhere(id => statuses.TryGetValue(id, out var status) && DocumentStatus.IsTerminal(status));

            if (pending.Count > 0 && clock.Elapsed >= nextKill && clock.Elapsed < KillPhase)
            {
                nextKill = clock.Elapsed + KillEvery;
                // A random worker that is up, keeping at least one other alive so the run makes progress.
                var up = app.App.GetReplicas(ChaosApp.Workers)
                    .Where(r => r.IsHealthy && r.ProcessId is not null && (!restarts.TryGetValue(r.Index, out var t) || t.IsCompleted))
                    .ToList();
                if (up.Count >= 2)
                {
                    var victim = up[Random.Shared.Next(up.Count)].Index;
                    await app.KillAndHoldAsync(victim);
                    restarts[victim] = app.RestartAsync(victim);
                    kills++;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        output.WriteLine($"{kills} kills; {Documents - pending.Count} of {Documents} terminal after {clock.Elapsed.TotalSeconds:F1} s");
        await Task.WhenAll(restarts.Values);
        Assert.True(pending.Count == 0, $"{pending.Count} documents not terminal within {Bound.TotalMinutes} min: {string.Join(", ", pending.Take(5))}\n{app.Diagnostics()}");
        Assert.True(kills >= 8, $"only {kills} kills happened");
        await app.SetFaultsAsync();

        // Every document finished exactly once: one completion, one result.
        foreach (var id in ids)
        {
            var document = await app.GetDocumentAsync(id);
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{id}: {document}");
            var history = await app.EventsAsync(id);
            Assert.Single(history, e => e.Kind == DocumentEventKinds.Completed);
        }

        // Nothing pending or waiting in Redis, and no stuck lease in flight.
        await app.App.WaitForHealthyAsync(ChaosApp.Workers, TimeSpan.FromSeconds(60));
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(60));

        // No orphaned temp files: none in the ingest storage, and the workers' folders are their live processes' only, empty.
        Assert.Empty(Directory.EnumerateFiles(app.IngestRoot, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(app.IngestRoot, "tmp")));
        var livePids = app.App.GetReplicas(ChaosApp.Workers).Select(r => r.ProcessId!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        await Eventually.UntilAsync(() => Directory.GetDirectories(app.WorkDirectory).All(d => livePids.Contains(Path.GetExtension(d).TrimStart('.'))),
            TimeSpan.FromSeconds(10), "only live workers have a work folder: " + string.Join(", ", Directory.GetDirectories(app.WorkDirectory)));
        Assert.All(Directory.GetDirectories(app.WorkDirectory), folder => Assert.Empty(Directory.EnumerateFileSystemEntries(folder)));
    }
}

[CollectionDefinition("soak")]
public sealed class SoakCollection;
