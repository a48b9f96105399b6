using System.Net;
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
        Assert.NotNull(EnqueuedAt(id));

        // Enqueued once, not once per sweep.
        await Eventually.UntilAsync(() => EnqueuedAt(id) is not null, TimeSpan.FromSeconds(5), "enqueued_at recorded");
        Assert.Single(await Api.JobEntriesAsync(redis, id));
        var groups = await redis.GetDatabase().StreamGroupInfoAsync(JobStreams.Jobs);
        Assert.Contains(groups, g => g.Name == JobStreams.ConsumerGroup);
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
