using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// Delivery as the worker process does it, against a real redis-server and the IngestService test double:
/// transient failures retried through the retry set with backoff, dead letters, lease renewal during a long stage,
/// cancel while running, and the fault-injection switch that cannot be turned on by accident.
/// </summary>
public sealed class DeliveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Req", "RTY-6")]
    [Trait("Req", "RTY-2")]
    public async Task A_transient_stage_failure_is_retried_through_the_retry_set_with_growing_backoff_until_it_succeeds()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-flaky", "flaky.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await TestJobs.EnqueueAsync(db, "doc-flaky");

        // extract fails transiently on the first two attempts (claims 1 and 2), then works.
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-r1", Faults(new()
        {
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Extract,
            ["FaultInjection__Rules__0__Action"] = "fail",
            ["FaultInjection__Rules__0__MaxAttempt"] = "2",
            ["Worker__RetryBaseDelayMs"] = "1000",
        }));

        await Eventually.UntilAsync(() => ingest.Read("doc-flaky", d => d.Result is not null), Patience, "the third attempt completes\n" + worker.Output);
        var document = ingest.Document("doc-flaky");
        Assert.Equal(3, document.Claims.Count);
        Assert.Equal(2, document.Releases.Count);
        Assert.All(document.Releases, r => Assert.Contains("Fault injection: transient failure in stage extract", r.Reason, StringComparison.Ordinal));

        // Backoff: each retry waited (equal jitter: at least half the nominal 1 s, then 2 s), the second longer nominally.
        var gaps = document.Claims.Zip(document.Claims.Skip(1), (a, b) => b.At - a.At).ToList();
        Assert.True(gaps[0] >= TimeSpan.FromSeconds(0.5), $"first retry after {gaps[0].TotalSeconds:F2} s");
        Assert.True(gaps[1] >= TimeSpan.FromSeconds(1.0), $"second retry after {gaps[1].TotalSeconds:F2} s");
        Assert.True(worker.Logged("Moved 1 due retr(ies) back into the jobs stream"), worker.Output);

        // Nothing left behind in Redis: acknowledged entries are deleted, the retry set is empty.
        await Eventually.UntilAsync(async () => await db.StreamLengthAsync(JobStreams.Jobs) == 0, TimeSpan.FromSeconds(10), "the stream holds no finished job");
        Assert.Equal(0, await db.SortedSetLengthAsync(JobStreams.Delayed));
        Assert.Equal(0, (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount);
    }

    [Fact]
    [Trait("Req", "JOB-3")]
    [Trait("Req", "RTY-6")]
    public async Task A_job_that_keeps_failing_is_dead_lettered_after_its_deliveries_with_its_reason()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-poison", "poison.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await TestJobs.EnqueueAsync(db, "doc-poison");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-r2", Faults(new()
        {
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Validate,
            ["FaultInjection__Rules__0__Action"] = "fail",
            ["Worker__MaxDeliveries"] = "3",
            ["Worker__RetryBaseDelayMs"] = "200",
        }));

        await Eventually.UntilAsync(() => ingest.Read("doc-poison", d => d.Failure is not null), Patience, "the job is dead-lettered\n" + worker.Output);
        var document = ingest.Document("doc-poison");
        Assert.Equal(DeliveryErrorCodes.DeadLettered, document.Failure!.Code);
        Assert.Contains("Gave up after 3 deliveries", document.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("Fault injection: transient failure in stage validate", document.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, document.Claims.Count);
        Assert.Equal(2, document.Releases.Count);

        await Eventually.UntilAsync(async () => await db.StreamLengthAsync(JobStreams.DeadLetters) == 1, TimeSpan.FromSeconds(10), "the dead letter is in its stream");
        var dead = Assert.Single(await db.StreamRangeAsync(JobStreams.DeadLetters, "-", "+"));
        Assert.Equal("doc-poison", dead[JobStreams.DocumentIdField]);
        Assert.Equal("3", dead[JobStreams.DeliveriesField]);
        Assert.Equal("2", dead[JobStreams.AttemptsField]);
        Assert.Contains("Gave up after 3 deliveries", dead[JobStreams.ReasonField].ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await db.StreamLengthAsync(JobStreams.Jobs));
        Assert.Equal(0, await db.SortedSetLengthAsync(JobStreams.Delayed));
        Assert.Equal(0, (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount);
    }

    [Fact]
    [Trait("Req", "FS-4")]
    [Trait("Req", "RTY-6")]
    public async Task While_ingest_storage_is_unavailable_the_job_waits_without_spending_its_deliveries_and_completes_when_it_returns()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        var document = ingest.Add("doc-outage", "outage.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        // One delivery only: had the refusals counted as a failed attempt, the first would have dead-lettered it.
        document.StorageOutageFailures = 6;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await TestJobs.EnqueueAsync(db, "doc-outage");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-r5", new Dictionary<string, string>
        {
            ["Worker__MaxDeliveries"] = "1",
            ["Worker__RetryBaseDelayMs"] = "200",
            ["Worker__RetryMaxDelayMs"] = "400",
            ["Worker__VisibilityTimeoutSeconds"] = "3",
            ["Worker__ReclaimIntervalSeconds"] = "1",
            ["Resilience__IngestClient__Retry__Delay"] = "00:00:00.100",
            // The client's breaker opens on the refusals, as it would; a short break keeps the test short.
            ["Resilience__IngestClient__CircuitBreaker__BreakDuration"] = "00:00:01",
        });

        try
        {
            await Eventually.UntilAsync(() => ingest.Read("doc-outage", d => d.Status == DocumentStatus.Completed || d.Failure is not null),
                Patience, "the document ends");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + "\n" + worker.Output, ex);
        }

        Assert.True(ingest.Read("doc-outage", d => d.Failure) is null, "not dead-lettered: " + ingest.Read("doc-outage", d => d.Failure?.Message) + "\n" + worker.Output);
        Assert.Equal(DocumentStatus.Completed, ingest.Read("doc-outage", d => d.Status));
        Assert.Equal(0, ingest.Read("doc-outage", d => d.StorageOutageFailures));
        Assert.True(ingest.Read("doc-outage", d => d.Claims.Count) >= 2, "claimed again after the refusals although it has one delivery: the waits were not counted");
        Assert.True(worker.Logged("without counting an attempt"), worker.Output);
    }

    [Fact]
    [Trait("Req", "JOB-6")]
    public async Task A_stage_longer_than_the_visibility_timeout_keeps_its_lease_and_no_other_worker_takes_the_job()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-long", "long.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        var settings = Faults(new()
        {
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Extract,
            ["FaultInjection__Rules__0__Action"] = "slow",
            ["FaultInjection__Rules__0__Seconds"] = "15",
            ["Worker__VisibilityTimeoutSeconds"] = "5",
            ["Worker__ReclaimIntervalSeconds"] = "1",
            ["Worker__StageTimeoutSeconds"] = "30",
        });
        await using var first = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-l1", settings);
        await using var second = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-l2", settings);
        await TestJobs.EnqueueAsync(db, "doc-long");

        await Eventually.UntilAsync(() => ingest.Read("doc-long", d => d.Result is not null), Patience,
            "the long job completes\n" + first.Output + "\n" + second.Output);

        // 15 s in one stage against a 5 s visibility timeout: renewed all along, so claimed exactly once. (A 2 s
        // timeout let a loaded machine's slow process start lose the entry before the first renewal.)
        var document = ingest.Document("doc-long");
        Assert.Single(document.Claims);
        Assert.True(document.Heartbeats >= 4, $"{document.Heartbeats} heartbeats");
        Assert.Equal(0, document.StaleWrites);
        Assert.False(first.Logged("Reclaimed job entry") || second.Logged("Reclaimed job entry"), first.Output + second.Output);
    }

    [Fact]
    [Trait("Req", "JOB-5")]
    public async Task A_document_cancelled_while_a_stage_runs_is_stopped_within_the_stage_and_its_job_acknowledged()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-cancel", "cancel.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-c1", Faults(new()
        {
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Extract,
            ["FaultInjection__Rules__0__Action"] = "slow",
            ["FaultInjection__Rules__0__Seconds"] = "50",
            ["Worker__VisibilityTimeoutSeconds"] = "3",
        }));
        await TestJobs.EnqueueAsync(db, "doc-cancel");
        await Eventually.UntilAsync(() => ingest.Read("doc-cancel", d => d.StageReports.Contains((PipelineStageNames.Extract, StageStatus.Running, null))),
            Patience, "extract is running\n" + worker.Output);

        var cancelledAt = DateTimeOffset.UtcNow;
        ingest.Read("doc-cancel", d => d.Status = DocumentStatus.Cancelled);

        await Eventually.UntilAsync(() => worker.Logged("was cancelled while in stage extract"), TimeSpan.FromSeconds(10), "the worker stops\n" + worker.Output);
        Assert.True(DateTimeOffset.UtcNow - cancelledAt < TimeSpan.FromSeconds(8), "stopped within a heartbeat or two, not at the end of the 50 s stage");
        await Eventually.UntilAsync(async () => (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "the cancelled job is acknowledged");
        var document = ingest.Document("doc-cancel");
        Assert.Null(document.Result);
        Assert.False(document.Checkpoints.ContainsKey(PipelineStageNames.Extract));
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    [Trait("Req", "RTY-6")]
    public async Task A_stage_past_its_own_timeout_is_cancelled_and_the_job_retried_and_the_budget_ends_a_document_as_timeout()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        ingest.Add("doc-slow-once", "slow-once.pdf", pdf);
        ingest.Add("doc-over-budget", "over-budget.pdf", pdf);
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-t1", Faults(new()
        {
            // slow-once: extract hangs for 30 s on the first attempt, against its own 2 s timeout.
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Extract,
            ["FaultInjection__Rules__0__Action"] = "slow",
            ["FaultInjection__Rules__0__Seconds"] = "30",
            ["FaultInjection__Rules__0__Match"] = "slow-once.pdf",
            ["FaultInjection__Rules__0__MaxAttempt"] = "1",
            // over-budget: five stages take 3 s each, within the 10 s stage timeout, against a 12 s document budget.
            // Timeouts this wide leave a loaded machine's slow process start room. (Not extract: its own 2 s limit is
            // for the other document. The budget may not be below the stage timeout: start-up refuses that.)
            ["FaultInjection__Rules__1__Action"] = "slow",
            ["FaultInjection__Rules__1__Seconds"] = "3",
            ["FaultInjection__Rules__1__Match"] = "over-budget.pdf",
            ["FaultInjection__Rules__1__Stage"] = PipelineStageNames.Validate,
            ["FaultInjection__Rules__2__Action"] = "slow",
            ["FaultInjection__Rules__2__Seconds"] = "3",
            ["FaultInjection__Rules__2__Match"] = "over-budget.pdf",
            ["FaultInjection__Rules__2__Stage"] = PipelineStageNames.Render,
            ["FaultInjection__Rules__3__Action"] = "slow",
            ["FaultInjection__Rules__3__Seconds"] = "3",
            ["FaultInjection__Rules__3__Match"] = "over-budget.pdf",
            ["FaultInjection__Rules__3__Stage"] = PipelineStageNames.Ocr,
            ["FaultInjection__Rules__4__Action"] = "slow",
            ["FaultInjection__Rules__4__Seconds"] = "3",
            ["FaultInjection__Rules__4__Match"] = "over-budget.pdf",
            ["FaultInjection__Rules__4__Stage"] = PipelineStageNames.Layout,
            ["FaultInjection__Rules__5__Action"] = "slow",
            ["FaultInjection__Rules__5__Seconds"] = "3",
            ["FaultInjection__Rules__5__Match"] = "over-budget.pdf",
            ["FaultInjection__Rules__5__Stage"] = PipelineStageNames.ReadingOrder,
            ["Worker__StageTimeoutSeconds"] = "10",
            ["Worker__StageTimeouts__extract"] = "2",
            ["Worker__DocumentBudgetSeconds"] = "12",
            ["Worker__RetryBaseDelayMs"] = "200",
        }));
        await TestJobs.EnqueueAsync(db, "doc-slow-once");
        await TestJobs.EnqueueAsync(db, "doc-over-budget");

        await Eventually.UntilAsync(() => ingest.Read("doc-slow-once", d => d.Result is not null), Patience, "the retry completes\n" + worker.Output);
        var slow = ingest.Document("doc-slow-once");
        var release = Assert.Single(slow.Releases);
        Assert.Contains("Stage extract did not finish within 2 s", release.Reason, StringComparison.Ordinal);
        Assert.Equal(2, slow.Claims.Count);
        Assert.Equal(2, slow.StageReports.Count(r => r.Stage == PipelineStageNames.Extract && r.Status == StageStatus.Running));

        await Eventually.UntilAsync(() => ingest.Read("doc-over-budget", d => d.Failure is not null), Patience, "the budget ends the document\n" + worker.Output);
        var over = ingest.Document("doc-over-budget");
        Assert.Equal(DeliveryErrorCodes.Timeout, over.Failure!.Code);
        Assert.Contains("budget of 12 s", over.Failure.Message, StringComparison.Ordinal);
        Assert.Single(over.Claims);
        Assert.Null(over.Result);
        await Eventually.UntilAsync(async () => await db.StreamLengthAsync(JobStreams.Jobs) == 0, TimeSpan.FromSeconds(10), "both jobs are finished and acknowledged");
    }

    [Theory]
    [InlineData("Development", false, "SUITE_ALLOW_FAULT_INJECTION is not 1")]
    [InlineData("Production", true, "refused in Production")]
    [Trait("Req", "SU-1")]
    public async Task Fault_injection_cannot_be_turned_on_by_accident(string environment, bool allowVariable, string message)
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = environment,
            ["FaultInjection__Enabled"] = "true",
        };
        if (allowVariable)
        {
            settings["SUITE_ALLOW_FAULT_INJECTION"] = "1";
        }

        var (exitCode, output) = await WorkerProcess.RunUntilExitAsync(redis.ConnectionString, "http://127.0.0.1:9", settings, TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "AV-1")]
    [Trait("Req", "AV-2")]
    public async Task A_job_for_a_document_awaiting_its_malware_scan_is_never_processed_and_waits_until_the_document_is_queued()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-unscanned", "held.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"))).Status = DocumentStatus.AwaitingScan;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await TestJobs.EnqueueAsync(db, "doc-unscanned");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-s1", new Dictionary<string, string>
        {
            ["Worker__RetryBaseDelayMs"] = "200",
            ["Worker__RetryMaxDelayMs"] = "400",
            ["Worker__MaxDeliveries"] = "2",
        });

        // Refused again and again (more times than MaxDeliveries: waiting counts no attempt), never claimed or read.
        await Eventually.UntilAsync(() => ingest.Read("doc-unscanned", d => d.NotScannedClaims >= 4), Patience, "the worker tried to claim it several times\n" + worker.Output);
        Assert.Empty(ingest.Document("doc-unscanned").Claims);
        Assert.Empty(ingest.Document("doc-unscanned").StageReports);
        Assert.Null(ingest.Document("doc-unscanned").Failure);

        // Found clean: the waiting job gets it processed.
        ingest.Read("doc-unscanned", d => d.Status = DocumentStatus.Queued);
        await Eventually.UntilAsync(() => ingest.Read("doc-unscanned", d => d.Result is not null), Patience, "the document is processed once queued\n" + worker.Output);
        Assert.Equal(DocumentStatus.Completed, ingest.Document("doc-unscanned").Status);
    }

    private static Dictionary<string, string> Faults(Dictionary<string, string> settings)
    {
        settings["SUITE_ALLOW_FAULT_INJECTION"] = "1";
        settings["FaultInjection__Enabled"] = "true";
        return settings;
    }
}

internal static class TestJobs
{
    public static async Task<string> EnqueueAsync(IDatabase db, string documentId)
    {
        var id = await db.StreamAddAsync(JobStreams.Jobs,
        [
            new NameValueEntry(JobStreams.DocumentIdField, documentId),
            new NameValueEntry(JobStreams.EnqueuedAtField, DateTimeOffset.UtcNow.ToString("O")),
        ]);
        await db.PublishAsync(RedisChannel.Literal(JobStreams.WakeChannel), "");
        return id.ToString();
    }
}
