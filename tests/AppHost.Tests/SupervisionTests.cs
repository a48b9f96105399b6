namespace AppHost.Tests;

/// <summary>Crash restart and clean disposal, on an application of its own (it kills processes on purpose).</summary>
public sealed class SupervisionTests
{
    [Fact]
    [Trait("Req", "HC-5")]
    public async Task Killed_processes_are_restarted_healthy_on_the_same_port_and_disposal_leaves_none_behind()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync([]);
        var app = await builder.BuildAsync();
        var dataDirectory = app.DataDirectory;
        List<int> pids;
        try
        {
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
            {
                await app.StartAsync(timeout.Token);
            }

            var before = app.GetReplicas("pipeline-worker")[1];
            var untouched = app.GetReplicas("pipeline-worker")[0];
            await app.KillReplicaAsync("pipeline-worker", 1);
            Assert.False(ProcessTable.IsAlive(before.ProcessId!.Value));

            await app.WaitForHealthyAsync("pipeline-worker", TimeSpan.FromSeconds(30));
            var after = app.GetReplicas("pipeline-worker")[1];
            Assert.NotEqual(before.ProcessId, after.ProcessId);
            Assert.True(ProcessTable.IsAlive(after.ProcessId!.Value));
            Assert.Equal(1, after.Restarts);
            Assert.Equal(137, after.LastExitCode); // 128 + SIGKILL
            Assert.Equal(before.Url, after.Url);
            Assert.Equal("pipeline-worker-1", ProcessTable.EnvironmentOf(after.ProcessId.Value)["Worker__ConsumerName"]);
            Assert.Equal(untouched.ProcessId, app.GetReplicas("pipeline-worker")[0].ProcessId);
            Assert.Equal(0, app.GetReplicas("pipeline-worker")[0].Restarts);
            Assert.Contains("restart #1", app.GetRecentLogs("pipeline-worker", 1), StringComparison.Ordinal);
            await Eventually.UntilAsync(() => app.GetStatus().Overall == ResourceHealth.Healthy, TimeSpan.FromSeconds(30), "the suite is healthy again");

            // Redis is supervised the same way: same port and data folder, so its AOF replays what it had.
            await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("redis")))
            {
                await redis.GetDatabase().StringSetAsync("apphost-test:kept", "yes");
            }

            var redisBefore = app.GetReplicas("redis")[0];
            await app.KillReplicaAsync("redis", 0);
            await app.WaitForHealthyAsync("redis", TimeSpan.FromSeconds(30));
            var redisAfter = app.GetReplicas("redis")[0];
            Assert.NotEqual(redisBefore.ProcessId, redisAfter.ProcessId);
            Assert.Equal(redisBefore.Url, redisAfter.Url);
            Assert.Equal(1, redisAfter.Restarts);
            await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("redis")))
            {
                Assert.Equal("yes", (string?)await redis.GetDatabase().StringGetAsync("apphost-test:kept"));
            }

            await app.WaitForHealthyAsync("ingest", TimeSpan.FromSeconds(30));
            pids = app.Resources.SelectMany(r => app.GetReplicas(r.Name)).Select(r => r.ProcessId!.Value).ToList();
            Assert.Equal(7, pids.Count); // redis, ingest, 2 workers, labelstudio emulator, bridge, gateway
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.All(pids, pid => Assert.False(ProcessTable.IsAlive(pid), $"pid {pid} outlived the application"));
        Assert.False(Directory.Exists(dataDirectory), "the test's temp data folder is removed with the application");
    }

    [Fact]
    public async Task Without_restart_on_exit_a_killed_replica_stays_exited()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync([]);
        builder.CreateResourceBuilder("redis").WithRestartOnExit(false);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await app.StartAsync(timeout.Token);

        await app.KillReplicaAsync("redis", 0);
        await Eventually.UntilAsync(() => app.GetReplicas("redis")[0].State == ReplicaState.Exited, TimeSpan.FromSeconds(5), "redis is marked exited");
        var redis = app.GetReplicas("redis")[0];
        Assert.Null(redis.ProcessId);
        Assert.Equal(0, redis.Restarts);
        Assert.Equal(ResourceHealth.Unhealthy, app.GetStatus().Overall);
    }

    [Fact]
    public async Task A_resource_that_never_becomes_healthy_fails_the_start_naming_it_with_its_last_lines()
    {
        // The bridge is told to listen elsewhere, so its planned endpoint never answers /health/ready.
        var elsewhere = FreePort.Next();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync(
            ["--Suite:StartTimeoutSeconds=4", $"--Suite:Env:labeling-bridge:ASPNETCORE_URLS=http://127.0.0.1:{elsewhere}"]);
        await using var app = await builder.BuildAsync();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());
        Assert.StartsWith("'labeling-bridge' did not become healthy within 4 s.", error.Message, StringComparison.Ordinal);
        Assert.Contains("labeling-bridge-0: state Starting, last health check: GET /health/ready", error.Message, StringComparison.Ordinal);
        Assert.Contains("| [apphost", error.Message, StringComparison.Ordinal);
        Assert.Contains($"launched: pid {app.GetReplicas("labeling-bridge")[0].ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Null(app.GetReplicas("gateway")[0].StartedAt); // it waits for the bridge, so it never launched
    }

    [Fact]
    public async Task A_project_that_is_not_built_is_named_with_the_build_command()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync([]);
        builder.ApplicationBuilder.AddProject("extra", "NoSuchProject");
        await using var app = await builder.BuildAsync();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());
        Assert.Contains("'extra' is not built", error.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet build Suite.sln", error.Message, StringComparison.Ordinal);
    }
}
