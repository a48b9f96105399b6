using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace AppHost.Tests;

/// <summary>The real suite under DCP: every resource healthy, crashed replicas restarted, a deliberate stop respected.</summary>
public sealed class SupervisionTests
{
    private static readonly string[] Topology = ["redis", "clamav", "ingest", "pipeline-worker", "labelstudio", "labeling-bridge", "gateway"];

    [Fact]
    [Trait("Req", "HC-5")]
    [Trait("Req", "HC-4")]
    public async Task A_killed_worker_is_restarted_a_stopped_one_stays_stopped_and_disposal_leaves_no_process()
    {
        var pids = new List<int>();
        await using (var app = await (await SuiteAppBuilder.CreateAsync()).StartAsync())
        {
            // Every resource of the topology is Running and Healthy, in one place (Aspire's resource states).
            Assert.Equal(Topology, app.Resources);
            var replicas = Topology.SelectMany(app.GetReplicas).ToList();
            Assert.Equal(8, replicas.Count);
            Assert.All(replicas, r => Assert.True(r.IsHealthy, r.ToString()));
            pids.AddRange(replicas.Select(r => r.ProcessId!.Value));

            // The services got Aspire's contract: Redis connection string, service discovery, OTLP, their own name.
            var worker = ProcessTree.EnvironmentOf(app.GetReplica("pipeline-worker", 0).ProcessId!.Value);
            Assert.Equal(await app.GetConnectionStringAsync("redis"), worker["ConnectionStrings__redis"]);
            Assert.StartsWith("http://", worker["services__ingest__http__0"], StringComparison.Ordinal);
            Assert.Equal("pipeline-worker", worker["OTEL_SERVICE_NAME"]);
            Assert.Contains("service.instance.id=", worker["OTEL_RESOURCE_ATTRIBUTES"], StringComparison.Ordinal);

            // kill -9: the AppHost starts the replica again, says why, and counts it.
            var killed = await app.KillReplicaAsync("pipeline-worker", 0);
            await Eventually.UntilAsync(() => app.GetReplica("pipeline-worker", 0) is { IsHealthy: true, ProcessId: { } pid } && pid != killed,
                TimeSpan.FromSeconds(90), $"the killed worker runs again ({app.GetReplica("pipeline-worker", 0)})", TimeSpan.FromMilliseconds(200));
            Assert.Equal(1, app.GetReplica("pipeline-worker", 0).Restarts);
            Assert.Contains("exited unexpectedly", app.GetRecentLogs("pipeline-worker", 0), StringComparison.Ordinal);
            Assert.Equal(0, app.GetReplica("pipeline-worker", 1).Restarts);
            pids.Add(await app.ProcessIdOfAsync("pipeline-worker", 0));

            // A stop asked for (the dashboard's Stop) is not undone: the replica stays down past several restart delays.
            await app.StopReplicaAsync("pipeline-worker", 1);
            var stoppedAt = DateTime.UtcNow;
            while (DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(5))
            {
                Assert.NotEqual(KnownResourceStates.Running, app.GetReplica("pipeline-worker", 1).State);
                await Task.Delay(250);
            }

            Assert.Equal(0, app.GetReplica("pipeline-worker", 1).Restarts);
            await app.StartReplicaAsync("pipeline-worker", 1);
            pids.Add(await app.ProcessIdOfAsync("pipeline-worker", 1));
        }

        // Disposing the app stops every process it started.
        await Eventually.UntilAsync(() => pids.All(pid => !ProcessTree.IsAlive(pid)), TimeSpan.FromSeconds(30),
            "no process of the suite outlives it: " + string.Join(", ", pids.Where(ProcessTree.IsAlive)));
    }
}
