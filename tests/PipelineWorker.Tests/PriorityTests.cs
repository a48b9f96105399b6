using System.Collections.Concurrent;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.Testing;
using Xunit.Abstractions;

namespace PipelineWorker.Tests;

/// <summary>
/// Job priorities as the worker process applies them (Req LS-2), against a real redis-server and the IngestService
/// test double: interactive jobs are taken before batch ones while both wait; a batch job that waited past
/// <c>Worker:BatchMaxWaitSeconds</c> is taken even under a steady stream of interactive jobs, but never two such on
/// consecutive claims; and reclaim, retries, dead letters and acknowledgements work on the batch stream.
/// </summary>
public sealed class PriorityTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task With_both_kinds_waiting_every_interactive_job_is_taken_before_any_batch_job_each_kind_in_arrival_order()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        // Arrival order mixes the kinds; "legacy" is an entry as added before priorities (no priority field).
        var arrivals = new[] { "b1", "b2", "i1", "b3", "legacy", "i2" };
        foreach (var id in arrivals)
        {
            ingest.Add(id, id + ".pdf", pdf);
            if (id == "legacy")
            {
                await TestJobs.EnqueueAsync(db, id);
            }
            else
            {
                await EnqueueAsync(db, id, id.StartsWith('b') ? JobPriority.Batch : JobPriority.Interactive);
            }
        }

        // One worker, started after all six wait: its order of claims is the order of the rule.
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-p1");
        await Eventually.UntilAsync(() => arrivals.All(id => ingest.Read(id, d => d.Result is not null)), Patience, "all six are completed\n" + worker.Output);

        var order = arrivals.OrderBy(id => ingest.Read(id, d => d.Claims[0].At)).ToList();
        Assert.Equal(["i1", "legacy", "i2", "b1", "b2", "b3"], order);
        await AssertQueueEmptyAsync(db);
    }

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task Under_a_steady_stream_of_interactive_jobs_batch_jobs_past_the_maximum_wait_are_taken_every_other_claim()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-p2", new Dictionary<string, string>
        {
            ["Worker__BatchMaxWaitSeconds"] = "2",
            // Each job takes at least 0.3 s, so a few interactive jobs always wait while the feeder below tops them up.
            ["SUITE_ALLOW_FAULT_INJECTION"] = "1",
            ["FaultInjection__Enabled"] = "true",
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Validate,
            ["FaultInjection__Rules__0__Action"] = "slow",
            ["FaultInjection__Rules__0__Seconds"] = "0.3",
        });

        var enqueued = new ConcurrentDictionary<string, DateTimeOffset>();
        var interactive = new List<string>();
        async Task AddAsync(string id, string priority)
        {
            ingest.Add(id, id + ".pdf", pdf);
            enqueued[id] = DateTimeOffset.UtcNow;
            await EnqueueAsync(db, id, priority);
        }

        bool Claimed(string id) => ingest.Read(id, d => d.Claims.Count > 0);

        // Interactive jobs waiting from the start, then two batch jobs, then the feeder keeps at least three
        // interactive jobs waiting at every moment until both batch jobs were taken (or the bound runs out).
        for (var i = 0; i < 3; i++)
        {
            interactive.Add($"i{i}");
            await AddAsync($"i{i}", JobPriority.Interactive);
        }

        await AddAsync("b1", JobPriority.Batch);
        await AddAsync("b2", JobPriority.Batch);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(Claimed("b1") && Claimed("b2")) && clock.Elapsed < Patience && interactive.Count < 400)
        {
            if (interactive.Count(id => !Claimed(id)) < 3)
            {
                var id = $"i{interactive.Count}";
                interactive.Add(id);
                await AddAsync(id, JobPriority.Interactive);
            }
            else
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }
        }

        Assert.True(Claimed("b1") && Claimed("b2"), $"the batch jobs were starved: {interactive.Count} interactive jobs went first\n{worker.Output}");
        await Eventually.UntilAsync(() => enqueued.Keys.All(Claimed), Patience, "the interactive jobs still waiting are taken too");
        var claims = enqueued.Keys.OrderBy(id => ingest.Read(id, d => d.Claims[0].At)).ToList();
        DateTimeOffset ClaimedAt(string id) => ingest.Read(id, d => d.Claims[0].At);
        var told = "claims in order: " + string.Join(" ", claims);
        output.WriteLine(told + $"; b1 waited {(ClaimedAt("b1") - enqueued["b1"]).TotalSeconds:F1} s, b2 {(ClaimedAt("b2") - enqueued["b2"]).TotalSeconds:F1} s");

        // Interactive first while the batch jobs were young: they waited about the maximum, not less.
        Assert.True(ClaimedAt("b1") - enqueued["b1"] >= TimeSpan.FromSeconds(1.9), $"b1 taken after {(ClaimedAt("b1") - enqueued["b1"]).TotalSeconds:F1} s; {told}");
        Assert.True(claims.TakeWhile(id => id != "b1").Any(id => id.StartsWith('i')), told);
        // Then taken ahead of interactive jobs that were already waiting when they were taken...
        foreach (var batch in new[] { "b1", "b2" })
        {
            Assert.True(interactive.Any(id => enqueued[id] < ClaimedAt(batch) && ClaimedAt(id) > ClaimedAt(batch)), $"{batch} jumped no waiting job; {told}");
        }

        // ...but not on two claims in a row, though both were past the maximum: an interactive job went between them.
        var first = claims.IndexOf("b1");
        Assert.True(claims.IndexOf("b2") > first + 1 && claims[first + 1].StartsWith('i'), told);
        Assert.True(worker.Logged("before interactive ones: it waited more than 2 s"), worker.Output);
    }

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task Batch_jobs_are_reclaimed_retried_dead_lettered_and_acknowledged_on_the_batch_stream_only()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        foreach (var id in new[] { "b-orphan", "b-retry", "b-poison" })
        {
            ingest.Add(id, id + ".pdf", pdf);
        }

        await db.StreamCreateConsumerGroupAsync(JobStreams.BatchJobs, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        // A consumer takes the first batch job and dies: it sits pending in the batch stream.
        var orphanEntry = await EnqueueAsync(db, "b-orphan", JobPriority.Batch);
        var taken = await db.StreamReadGroupAsync(JobStreams.BatchJobs, JobStreams.ConsumerGroup, "dead-1", StreamPosition.NewMessages, count: 1);
        Assert.Equal(orphanEntry, Assert.Single(taken).Id.ToString());
        await EnqueueAsync(db, "b-retry", JobPriority.Batch);
        await EnqueueAsync(db, "b-poison", JobPriority.Batch);

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-p3", new Dictionary<string, string>
        {
            ["Worker__VisibilityTimeoutSeconds"] = "2",
            ["Worker__ReclaimIntervalSeconds"] = "1",
            ["Worker__MaxDeliveries"] = "2",
            ["Worker__RetryBaseDelayMs"] = "200",
            ["SUITE_ALLOW_FAULT_INJECTION"] = "1",
            ["FaultInjection__Enabled"] = "true",
            // b-retry fails transiently once; b-poison on every delivery.
            ["FaultInjection__Rules__0__Stage"] = PipelineStageNames.Extract,
            ["FaultInjection__Rules__0__Action"] = "fail",
            ["FaultInjection__Rules__0__Match"] = "b-retry.pdf",
            ["FaultInjection__Rules__0__MaxAttempt"] = "1",
            ["FaultInjection__Rules__1__Stage"] = PipelineStageNames.Validate,
            ["FaultInjection__Rules__1__Action"] = "fail",
            ["FaultInjection__Rules__1__Match"] = "b-poison.pdf",
        });

        await Eventually.UntilAsync(
            () => ingest.Read("b-orphan", d => d.Result is not null) && ingest.Read("b-retry", d => d.Result is not null)
                  && ingest.Read("b-poison", d => d.Failure is not null),
            Patience, "the batch jobs reach their end\n" + worker.Output);

        Assert.Equal(["pipeline-worker-p3"], ingest.Read("b-orphan", d => d.Claims.Select(c => c.WorkerId).ToList()));
        Assert.True(worker.Logged("Reclaimed job entry " + orphanEntry), worker.Output);
        Assert.Equal(2, ingest.Read("b-retry", d => d.Claims.Count));
        Assert.Equal(DeliveryErrorCodes.DeadLettered, ingest.Read("b-poison", d => d.Failure!.Code));
        // The failure is reported to ingest before the consumer moves the entry to the dead letters: wait for the move.
        await Eventually.UntilAsync(async () => await db.StreamLengthAsync(JobStreams.DeadLetters) == 1, Patience,
            "the poison job is moved to the dead-letter stream\n" + worker.Output);
        var dead = Assert.Single(await db.StreamRangeAsync(JobStreams.DeadLetters, "-", "+"));
        Assert.Equal("b-poison", dead[JobStreams.DocumentIdField].ToString());
        Assert.Equal(JobPriority.Batch, dead[JobStreams.PriorityField].ToString());

        // Every retry went back to the batch stream: nothing was ever added to the interactive one. Three uploads and
        // one retry each of b-retry and b-poison were added to the batch stream.
        await AssertQueueEmptyAsync(db);
        Assert.Equal(0, await EntriesAddedAsync(db, JobStreams.Jobs));
        Assert.Equal(5, await EntriesAddedAsync(db, JobStreams.BatchJobs));
    }

    /// <summary>Adds a job as IngestService does: on the stream of its priority, with the priority field.</summary>
    private static async Task<string> EnqueueAsync(IDatabase db, string documentId, string priority)
    {
        var id = await db.StreamAddAsync(JobStreams.StreamOf(priority),
        [
            new NameValueEntry(JobStreams.DocumentIdField, documentId),
            new NameValueEntry(JobStreams.EnqueuedAtField, DateTimeOffset.UtcNow.ToString("O")),
            new NameValueEntry(JobStreams.PriorityField, priority),
        ]);
        await db.PublishAsync(RedisChannel.Literal(JobStreams.WakeChannel), "");
        return id.ToString();
    }

    /// <summary>Nothing left in Redis: both streams empty (acknowledged entries are deleted), nothing pending, no retry waiting.</summary>
    private static async Task AssertQueueEmptyAsync(IDatabase db) =>
        await Eventually.UntilAsync(async () =>
            await db.StreamLengthAsync(JobStreams.Jobs) == 0 && await db.StreamLengthAsync(JobStreams.BatchJobs) == 0
            && (await db.StreamPendingAsync(JobStreams.Jobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0
            && (await db.StreamPendingAsync(JobStreams.BatchJobs, JobStreams.ConsumerGroup)).PendingMessageCount == 0
            && await db.SortedSetLengthAsync(JobStreams.Delayed) == 0,
            TimeSpan.FromSeconds(10), "both streams, their pending lists and the retry set are empty");

    /// <summary>How many entries were ever added to a stream (XINFO STREAM entries-added; 0 when it does not exist).</summary>
    private static async Task<long> EntriesAddedAsync(IDatabase db, string stream)
    {
        if (!await db.KeyExistsAsync(stream))
        {
            return 0;
        }

        var info = (RedisResult[])(await db.ExecuteAsync("XINFO", "STREAM", stream))!;
        for (var i = 0; i + 1 < info.Length; i += 2)
        {
            if (info[i].ToString() == "entries-added")
            {
                return (long)info[i + 1];
            }
        }

        throw new Xunit.Sdk.XunitException("XINFO STREAM has no entries-added (Redis 7 or later is needed)");
    }
}
