using System.Text.Json;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;
using Xunit.Abstractions;

namespace PipelineWorker.Tests;

/// <summary>
/// The worker as a real process, against a real redis-server and a test double of IngestService's internal API
/// on real Kestrel: jobs flow through the stream, results arrive over HTTP, entries are acknowledged.
/// </summary>
public sealed class JobConsumerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Queued_jobs_are_processed_submitted_and_acknowledged()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-one", "minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        ingest.Add("doc-two", "four-pages.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await EnqueueAsync(db, "doc-one");
        await EnqueueAsync(db, "doc-two");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t1");

        await Eventually.UntilAsync(
            () => ingest.Read("doc-one", d => d.Result is not null) && ingest.Read("doc-two", d => d.Result is not null),
            Patience,
            "both results are submitted\n" + worker.Output);
        await Eventually.UntilAsync(async () => (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "no pending entries after the results");

        foreach (var (id, pages) in new[] { ("doc-one", 1), ("doc-two", 4) })
        {
            var document = ingest.Document(id);
            var result = JsonSerializer.Deserialize<DocumentResult>(document.Result!.Json, DocumentResult.JsonOptions)!;
            Assert.Equal(id, result.DocumentId);
            Assert.Equal(pages, result.PageCount);
            Assert.Contains($"<!-- page {pages} -->", document.Result.Markdown, StringComparison.Ordinal);
            Assert.Equal(DocumentStatus.Completed, document.Status);
            Assert.Equal(["pipeline-worker-t1"], document.Claims.Select(c => c.WorkerId));
            Assert.Equal(PipelineStageNames.All, document.Checkpoints.Keys.Order(StringComparer.Ordinal).OrderBy(k => PipelineStageNames.All.ToList().IndexOf(k)));
            foreach (var stage in PipelineStageNames.All)
            {
                var reports = document.StageReports.Where(r => r.Stage == stage).Select(r => r.Status).ToList();
                Assert.Equal(2, reports.Count);
                Assert.Equal(StageStatus.Running, reports[0]);
                Assert.Contains(reports[1], new[] { StageStatus.Completed, StageStatus.Degraded, StageStatus.Skipped });
            }
        }

        var recall = PdfText.Recall(await PdfText.ExtractAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")), ingest.Document("doc-two").Result!.Markdown);
        Assert.True(recall >= 0.95, $"recall {recall:P1}");
        Assert.Equal(0, ingest.Read("doc-one", d => d.StaleWrites));
    }

    [Fact]
    [Trait("Req", "RTY-5")]
    public async Task A_result_answered_503_is_sent_again_whole_from_the_checkpoint_file_and_completes_the_document()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        // Two 503s: within the IngestClient's three retries, so the same attempt must get the result through.
        ingest.Add("doc-flaky", "four-pages.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf"))).ResultFailuresToInject = 2;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await EnqueueAsync(mux.GetDatabase(), "doc-flaky");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t1");
        await Eventually.UntilAsync(() => ingest.Read("doc-flaky", d => d.Result is not null), Patience, "the result is stored\n" + worker.Output);

        // The streamed body was sent three times, each time from its start and whole, within one attempt.
        var document = ingest.Document("doc-flaky");
        Assert.Equal(3, document.ResultBodyBytes.Count);
        Assert.Single(document.ResultBodyBytes.Distinct());
        Assert.Single(document.Claims);
        var result = JsonSerializer.Deserialize<DocumentResult>(document.Result!.Json, DocumentResult.JsonOptions)!;
        Assert.Equal(4, result.PageCount);
        var recall = PdfText.Recall(await PdfText.ExtractAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")), document.Result.Markdown);
        Assert.True(recall >= 0.95, $"recall {recall:P1}");
    }

    [Fact]
    [Trait("Req", "JOB-1")]
    public async Task A_job_left_pending_by_a_dead_consumer_is_reclaimed_after_the_visibility_timeout()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-orphan", "minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        var entryId = await EnqueueAsync(db, "doc-orphan");

        // A consumer that reads the job and dies: the entry sits in its pending list, never acknowledged.
        var taken = await db.StreamReadGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, "dead-1", StreamPosition.NewMessages, count: 1);
        Assert.Equal(entryId, Assert.Single(taken).Id);
        var takenAt = DateTimeOffset.UtcNow;
        var pending = await db.StreamPendingMessagesAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, 10, RedisValue.Null);
        Assert.Equal("dead-1", Assert.Single(pending).ConsumerName);

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t2", new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeoutSeconds"] = "2",
            ["Worker__ReclaimIntervalSeconds"] = "1",
        });

        await Eventually.UntilAsync(() => ingest.Read("doc-orphan", d => d.Result is not null), Patience, "the orphaned job is completed\n" + worker.Output);
        await Eventually.UntilAsync(async () => (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "the reclaimed entry is acknowledged");

        // It really was a reclaim: the stream's only entry had been delivered to dead-1, the new worker could only
        // get it through XAUTOCLAIM, and only once it had been idle for the visibility timeout.
        var claim = Assert.Single(ingest.Document("doc-orphan").Claims);
        Assert.Equal("pipeline-worker-t2", claim.WorkerId);
        Assert.True(claim.At - takenAt >= TimeSpan.FromSeconds(1.9), $"claimed {(claim.At - takenAt).TotalSeconds:F1} s after dead-1 took it");
        Assert.True(worker.Logged("Reclaimed job entry " + entryId), worker.Output);
    }

    [Fact]
    [Trait("Req", "JOB-1")]
    public async Task A_reclaimed_job_resumes_from_the_checkpoints_of_the_dead_worker()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf"));
        var document = ingest.Add("doc-resume", "four-pages.pdf", pdf);
        // The dead worker got through validate and extract and stored their checkpoints.
        foreach (var (stage, bytes) in await CheckpointsOfFirstStagesAsync(pdf))
        {
            document.Checkpoints[stage] = bytes;
        }

        document.LeaseToken = 1;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        await EnqueueAsync(db, "doc-resume");
        await db.StreamReadGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, "dead-1", StreamPosition.NewMessages, count: 1);

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t3", new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeoutSeconds"] = "1",
            ["Worker__ReclaimIntervalSeconds"] = "1",
        });

        await Eventually.UntilAsync(() => ingest.Read("doc-resume", d => d.Result is not null), Patience, "the resumed job is completed\n" + worker.Output);
        // Only the stages after the stored checkpoints ran again, each exactly once.
        var reports = ingest.Read("doc-resume", d => d.StageReports.ToList());
        var rerun = PipelineStageNames.All.Skip(2).ToList();
        Assert.Equal(rerun, reports.Where(r => r.Status == StageStatus.Running).Select(r => r.Stage));
        Assert.DoesNotContain(reports, r => r.Stage is PipelineStageNames.Validate or PipelineStageNames.Extract);
        Assert.Equal([PipelineStageNames.Validate, PipelineStageNames.Extract], ingest.Read("doc-resume", d => d.CheckpointReads.ToList()));
        var result = JsonSerializer.Deserialize<DocumentResult>(ingest.Document("doc-resume").Result!.Json, DocumentResult.JsonOptions)!;
        Assert.Equal(4, result.PageCount);
        Assert.Equal(2, ingest.Document("doc-resume").Claims.Single().Lease);
    }

    [Fact]
    [Trait("Req", "IN-4")]
    public async Task A_permanent_failure_is_reported_with_its_code_and_acknowledged()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-locked", "locked.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("pypdf__r4-aes-user-password.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await EnqueueAsync(db, "doc-locked");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t4");

        await Eventually.UntilAsync(() => ingest.Read("doc-locked", d => d.Failure is not null), Patience, "the failure is reported\n" + worker.Output);
        await Eventually.UntilAsync(async () => (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "the failed job is acknowledged");
        var document = ingest.Document("doc-locked");
        Assert.Equal("encrypted", document.Failure!.Code);
        Assert.Equal(DocumentStatus.Failed, document.Status);
        Assert.Contains((PipelineStageNames.Validate, StageStatus.Failed), document.StageReports.Select(r => (r.Stage, r.Status)));
        Assert.Null(document.Result);
    }

    [Fact]
    public async Task A_stale_lease_makes_the_worker_abandon_the_job_without_acknowledging_it()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.SupersedeEveryClaim = true;
        ingest.Add("doc-stolen", "minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await EnqueueAsync(db, "doc-stolen");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t5");

        await Eventually.UntilAsync(() => worker.Logged("lease lost"), Patience, "the worker notices the stale lease\n" + worker.Output);
        var pending = await db.StreamPendingMessagesAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, 10, RedisValue.Null);
        Assert.Equal("pipeline-worker-t5", Assert.Single(pending).ConsumerName);
        var document = ingest.Document("doc-stolen");
        Assert.Null(document.Result);
        Assert.Null(document.Failure);
        Assert.True(document.StaleWrites >= 1);
    }

    [Fact]
    public async Task After_redis_restarts_without_data_the_worker_recreates_the_group_and_keeps_consuming()
    {
        await using var redis = await RedisServer.StartAsync(appendOnly: false);
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-after", "minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t6");
        await using (var before = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            await Eventually.UntilAsync(async () => (await before.GetDatabase().KeyExistsAsync(JobStreams.Jobs)), TimeSpan.FromSeconds(10), "the worker created the group");
        }

        await redis.RestartAsync(); // no persistence: the stream and its group are gone

        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await Eventually.UntilAsync(() => worker.Logged("is missing"), Patience, "the worker sees NOGROUP\n" + worker.Output);
        await EnqueueAsync(db, "doc-after");
        await Eventually.UntilAsync(() => ingest.Read("doc-after", d => d.Result is not null), Patience, "the job queued after the restart is completed\n" + worker.Output);
        Assert.False(worker.Logged("\"LogLevel\":\"Critical\""), worker.Output);
    }

    [Fact]
    [Trait("Req", "SD-2")]
    [Trait("Req", "JOB-1")]
    public async Task A_worker_stopped_mid_stage_leaves_its_job_pending_and_another_worker_completes_it()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        var file = RepoPaths.CorpusFile("pdfplumber__federal-register-2020-17221.pdf"); // 15 dense pages: extract takes seconds
        ingest.Add("doc-long", "federal-register.pdf", await File.ReadAllBytesAsync(file));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        var entryId = await EnqueueAsync(db, "doc-long");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using (var first = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t7a"))
        {
            await Eventually.UntilAsync(
                () => ingest.Read("doc-long", d => d.StageReports.Contains((PipelineStageNames.Extract, StageStatus.Running, null))),
                Patience,
                "the first worker is in the extract stage\n" + first.Output);

            output.WriteLine($"extract running at {clock.Elapsed}");
            var exitCode = await first.TerminateAsync(TimeSpan.FromSeconds(20));
            output.WriteLine($"exited at {clock.Elapsed}");

            Assert.Equal(0, exitCode);
            Assert.True(first.Logged("the job stays pending for another worker"), first.Output);
        }

        var pending = await db.StreamPendingMessagesAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, 10, RedisValue.Null);
        Assert.Equal(("pipeline-worker-t7a", entryId), (Assert.Single(pending).ConsumerName.ToString(), pending[0].MessageId.ToString()));
        Assert.Null(ingest.Document("doc-long").Result);
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(Path.GetTempPath(), "suite-worker"), "pipeline-worker-t7a.*"),
            d => Directory.Exists(Path.Combine(d, "doc-long")));

        await using var second = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t7b", new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeoutSeconds"] = "1",
            ["Worker__ReclaimIntervalSeconds"] = "1",
        });

        output.WriteLine($"second started at {clock.Elapsed}");
        await Eventually.UntilAsync(() => ingest.Read("doc-long", d => d.Result is not null), Patience, "the second worker completes the job\n" + second.Output);
        output.WriteLine($"completed at {clock.Elapsed}");
        await Eventually.UntilAsync(async () => (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "the entry is acknowledged");
        var document = ingest.Document("doc-long");
        Assert.Equal(["pipeline-worker-t7a", "pipeline-worker-t7b"], document.Claims.Select(c => c.WorkerId));
        Assert.Contains(PipelineStageNames.Validate, document.CheckpointReads); // resumed after validate, not restarted
        var recall = PdfText.Recall(await PdfText.ExtractAsync(file), document.Result!.Markdown);
        Assert.True(recall >= 0.95, $"recall {recall:P1}");
    }

    private static async Task<string> EnqueueAsync(IDatabase db, string documentId)
    {
        var id = await db.StreamAddAsync(JobStreams.Jobs,
        [
            new NameValueEntry(JobStreams.DocumentIdField, documentId),
            new NameValueEntry(JobStreams.EnqueuedAtField, DateTimeOffset.UtcNow.ToString("O")),
        ]);
        await db.PublishAsync(RedisChannel.Literal(JobStreams.WakeChannel), "");
        return id.ToString();
    }

    /// <summary>Real validate and extract checkpoints of a PDF, as a worker that died before assemble left them.</summary>
    private static async Task<Dictionary<string, byte[]>> CheckpointsOfFirstStagesAsync(byte[] pdf)
    {
        using var host = new PipelineHost();
        var work = Directory.CreateTempSubdirectory("suite-resume-test-");
        try
        {
            var context = new Suite.PipelineWorker.Stages.StageContext("doc-resume", "four-pages.pdf", work.FullName);
            await File.WriteAllBytesAsync(context.ContentPath, pdf);
            var checkpoints = new Dictionary<string, byte[]>();
            foreach (var stage in host.Pipeline.Stages.Take(2))
            {
                await host.Pipeline.RunStageAsync(stage, context, CancellationToken.None, CancellationToken.None);
                checkpoints[stage.Name] = await File.ReadAllBytesAsync(context.CheckpointPath(stage.Name));
            }

            return checkpoints;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
