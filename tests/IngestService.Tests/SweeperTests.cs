using System.Net;
using IngestService.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>The catalog and the jobs stream do not diverge when Redis is down at upload time (Req JOB-7).</summary>
public sealed class SweeperTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private IngestHost _host = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Queue:SweepIntervalSeconds"] = "1",
            ["Queue:EnqueueTimeoutMs"] = "500",
            ["Queue:VerifyAfterSeconds"] = "2",
            ["Redis:ConnectTimeoutMs"] = "1000",
            ["Redis:CommandTimeoutMs"] = "1000",
        }).Start();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    [Trait("Req", "JOB-7")]
    [Trait("Req", "JOB-4")]
    public async Task An_upload_accepted_while_redis_is_down_is_enqueued_by_the_sweeper_once_redis_is_back()
    {
        // The consumer group exists from start-up, so a job added before any worker starts is not skipped.
        await using (var probe = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            await Eventually.UntilAsync(async () =>
                (await probe.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs)).Any(g => g.Name == JobStreams.ConsumerGroup),
                TimeSpan.FromSeconds(10), "the consumer group is created at start-up");
        }

        _redis.Kill();
        using var response = await Api.UploadAsync(_host.Client, Api.MinimalPdf, "during-outage.pdf");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        Assert.Null(EnqueuedAt(id));

        await _redis.StartProcessAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(redis, id)).Length == 1,
            TimeSpan.FromSeconds(30), "the sweeper adds the job once Redis is back");
        // The entry is added before the catalog records it, so the record may trail by a moment.
        await Eventually.UntilAsync(() => EnqueuedAt(id) is not null, TimeSpan.FromSeconds(5), "enqueued_at recorded");

        // Enqueued once, not once per sweep: two more passes of the sweeper add nothing.
        var sweeper = _host.Services.GetServices<IHostedService>().OfType<EnqueueSweeper>().Single();
        await sweeper.SweepOnceAsync(CancellationToken.None);
        await sweeper.SweepOnceAsync(CancellationToken.None);
        Assert.Single(await Api.JobEntriesAsync(redis, id));
        var groups = await redis.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs);
        Assert.Contains(groups, g => g.Name == JobStreams.ConsumerGroup);
    }

    [Fact]
    [Trait("Req", "JOB-4")]
    public async Task A_job_redis_lost_is_queued_again_but_a_job_waiting_in_the_retry_set_is_left_alone()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var db = redis.GetDatabase();
        var lost = await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "lost.pdf");
        var waiting = await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "waiting.pdf");
        var lostEntry = Assert.Single(await Api.JobEntriesAsync(redis, lost)).Id;
        var waitingEntry = Assert.Single(await Api.JobEntriesAsync(redis, waiting)).Id;

        // As after a Redis crash that lost the last second of its AOF: the stream no longer has the first job.
        await db.StreamDeleteAsync(JobStreams.Jobs, [lostEntry]);
        // The second job failed transiently and waits in the retry set, due in an hour.
        await db.StreamDeleteAsync(JobStreams.Jobs, [waitingEntry]);
        var member = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            [JobStreams.DocumentIdField] = waiting,
            [JobStreams.AttemptsField] = "1",
            [JobStreams.RetryOfField] = waitingEntry.ToString(),
        });
        await db.SortedSetAddAsync(JobStreams.Delayed, member, DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());

        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(redis, lost)).Length == 1,
            TimeSpan.FromSeconds(20), "the sweeper queues the lost job again");
        // The history records the re-queue right after the entry is added.
        await Eventually.UntilAsync(async () =>
        {
            using var events = await _host.Client.GetAsync(InternalApi.Events(lost));
            return (await events.Content.ReadAsStringAsync()).Contains("\"requeued\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(5), "the lost job's history says it was re-queued");

        // A negative check: over several more verification rounds (every 1 s) the waiting job is not duplicated
        // and the re-queued one is not added twice.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Empty(await Api.JobEntriesAsync(redis, waiting));
        Assert.Single(await Api.JobEntriesAsync(redis, lost));
        Assert.Equal(1, await db.SortedSetLengthAsync(JobStreams.Delayed));
    }

    [Fact]
    [Trait("Req", "LS-2")]
    [Trait("Req", "JOB-4")]
    public async Task A_lost_batch_job_is_queued_again_on_the_batch_stream_and_a_waiting_batch_job_is_left_alone()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var db = redis.GetDatabase();
        var lost = await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "lost-batch.pdf", "priority=batch");
        var present = await Api.UploadOkAsync(_host.Client, Api.MinimalPdf, "present-batch.pdf", "priority=batch");
        // The upload's own XADD (500 ms here) may time out on a loaded machine; then the sweeper adds the job.
        var lostEntry = await Eventually.ValueAsync(async () => (await Api.JobEntriesAsync(redis, lost, JobStreams.BatchJobs)).SingleOrDefault() is { IsNull: false } e ? e.Id.ToString() : null,
            TimeSpan.FromSeconds(10), "the lost document's job is in the batch stream first");
        await db.StreamDeleteAsync(JobStreams.BatchJobs, [lostEntry]);

        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(redis, lost, JobStreams.BatchJobs)).Length == 1,
            TimeSpan.FromSeconds(20), "the sweeper queues the lost batch job again, on the batch stream");
        Assert.Equal("batch", (await Api.JobEntriesAsync(redis, lost, JobStreams.BatchJobs))[0][JobStreams.PriorityField].ToString());

        // A negative check: over several more verification rounds (every 1 s, both documents inactive past the 2 s
        // limit) the batch job still waiting in its stream counts as present, and nothing lands on the interactive stream.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Single(await Api.JobEntriesAsync(redis, present, JobStreams.BatchJobs));
        Assert.Single(await Api.JobEntriesAsync(redis, lost, JobStreams.BatchJobs));
        Assert.Empty(await Api.JobEntriesAsync(redis, present, JobStreams.Jobs));
        Assert.Empty(await Api.JobEntriesAsync(redis, lost, JobStreams.Jobs));
    }

    [Fact]
    [Trait("Req", "SU-6")]
    [Trait("Req", "JOB-4")]
    public async Task A_service_started_while_redis_is_down_creates_the_consumer_group_once_redis_is_up_without_waiting_for_an_upload()
    {
        // Redis loses everything (as after a restart without its data), then goes down; a second service starts
        // while it is down. Nothing is uploaded afterwards: only the services' own sweeps can bring the group back.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true"))
        {
            await admin.GetServer(_redis.ConnectionString).FlushAllDatabasesAsync();
        }

        _redis.Kill();
        await using var late = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Queue:SweepIntervalSeconds"] = "1",
            ["Redis:ConnectTimeoutMs"] = "1000",
        }).Start();
        using (var live = await late.Client.GetAsync("/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        await _redis.StartProcessAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        await Eventually.UntilAsync(async () =>
            await redis.GetDatabase().KeyExistsAsync(JobStreams.Jobs)
            && (await redis.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs)).Any(g => g.Name == JobStreams.ConsumerGroup)
            && (await redis.GetDatabase().StreamGroupInfoAsync(JobStreams.BatchJobs)).Any(g => g.Name == JobStreams.ConsumerGroup),
            TimeSpan.FromSeconds(20), "the consumer group is created again on both jobs streams once Redis is reachable");
    }

    private string? EnqueuedAt(string id)
    {
        using var connection = _host.OpenCatalog();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT enqueued_at FROM documents WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() as string;
    }
}
