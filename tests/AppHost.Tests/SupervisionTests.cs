namespace AppHost.Tests;

/// <summary>Crash restart and clean disposal, on an application of its own (it kills processes on purpose).</summary>
public sealed class SupervisionTests
{
    [Fact]
    [Trait("Req", "HC-5")]
    public async Task A_killed_worker_is_restarted_healthy_and_disposal_leaves_no_process_behind()
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
            Assert.Equal(ResourceHealth.Healthy, app.GetStatus().Overall);

            pids = app.Resources.SelectMany(r => app.GetReplicas(r.Name)).Select(r => r.ProcessId!.Value).ToList();
            Assert.Equal(6, pids.Count);
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
}
