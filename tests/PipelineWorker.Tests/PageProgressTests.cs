using StackExchange.Redis;
using Suite.Contracts;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>The worker reports the pages its long stages have done, while they run, at most once per interval.</summary>
public sealed class PageProgressTests
{
    [Fact]
    [Trait("Req", "WS-1")]
    public async Task Extract_render_and_ocr_report_their_pages_done_while_they_run_with_increasing_counts()
    {
        const int Pages = 12;
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-progress", "report.pdf", GeneratedReport.Build(Pages));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await db.StreamAddAsync(JobStreams.Jobs,
        [
            new NameValueEntry(JobStreams.DocumentIdField, "doc-progress"),
            new NameValueEntry(JobStreams.EnqueuedAtField, DateTimeOffset.UtcNow.ToString("O")),
        ]);

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-progress",
            new Dictionary<string, string> { ["Worker__ProgressIntervalMs"] = "1" });
        await Eventually.UntilAsync(() => ingest.Read("doc-progress", d => d.Result is not null), TimeSpan.FromSeconds(90),
            "the result is submitted\n" + worker.Output);

        var reports = ingest.Read("doc-progress", d => d.PageProgress.ToList());
        var extract = reports.Where(r => r.Stage == PipelineStageNames.Extract).ToList();
        Assert.NotEmpty(extract);
        Assert.All(reports, r => Assert.True(r.WhileRunning, $"{r.Stage} {r.Page}/{r.Pages} arrived after its stage ended"));
        Assert.All(extract, r => Assert.Equal(Pages, r.Pages));
        foreach (var stage in reports.Select(r => r.Stage).Distinct())
        {
            var counts = reports.Where(r => r.Stage == stage).Select(r => r.Page).ToList();
            Assert.True(counts.Zip(counts.Skip(1)).All(p => p.First < p.Second), $"{stage}: {string.Join(", ", counts)}");
        }

        Assert.Subset(new HashSet<string> { PipelineStageNames.Extract, PipelineStageNames.Render, PipelineStageNames.Ocr },
            reports.Select(r => r.Stage).ToHashSet());
    }
}
