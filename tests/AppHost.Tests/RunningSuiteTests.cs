using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StackExchange.Redis;

namespace AppHost.Tests;

/// <summary>The whole suite as real processes: health, dashboard, the environment contract, holding a replica down.</summary>
public sealed class RunningSuiteTests(RunningSuiteFixture suite) : IClassFixture<RunningSuiteFixture>
{
    private static readonly string[] Projects = ["ingest", "pipeline-worker", "labelstudio", "labeling-bridge", "gateway"];
    private static readonly string[] AllResources = ["redis", .. Projects];

    private DistributedApplication App => suite.App;

    [Fact]
    [Trait("Req", "HC-5")]
    public async Task Every_resource_is_healthy_and_the_dashboard_shows_the_whole_suite_in_one_place()
    {
        Assert.Equal(2, App.GetReplicas("pipeline-worker").Count);

        // Checks run every second on a busy machine, so a single one may fail: wait (bounded) for a healthy report.
        using var json = await Eventually.ValueAsync(async () =>
        {
            var report = JsonDocument.Parse(await suite.Http.GetStringAsync(new Uri(App.DashboardUrl, "/api/resources")));
            if (report.RootElement.GetProperty("overall").GetString() == "Healthy")
            {
                return report;
            }

            report.Dispose();
            return null;
        }, TimeSpan.FromSeconds(30), "the dashboard reports the whole suite healthy");
        var listed = json.RootElement.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal(AllResources.Order(), listed.Keys.Order());
        foreach (var (name, resource) in listed)
        {
            Assert.Equal("Healthy", resource.GetProperty("health").GetString());
            foreach (var instance in resource.GetProperty("instances").EnumerateArray())
            {
                var pid = instance.GetProperty("processId").GetInt32();
                Assert.True(ProcessTable.IsAlive(pid), $"{name}: pid {pid} listed by the dashboard is not running");
                Assert.Equal("Running", instance.GetProperty("state").GetString());
            }
        }

        var page = await suite.Http.GetStringAsync(App.DashboardUrl);
        Assert.Contains("/api/resources", page, StringComparison.Ordinal);
        Assert.Contains("later issue", page, StringComparison.Ordinal);
    }

    [Fact]
    public void WaitFor_started_each_resource_only_after_its_dependencies()
    {
        DateTimeOffset Started(string name, int replica = 0) => App.GetReplicas(name)[replica].StartedAt!.Value;

        Assert.True(Started("ingest") > Started("redis"));
        Assert.True(Started("pipeline-worker", 0) > Started("ingest"));
        Assert.True(Started("pipeline-worker", 1) > Started("ingest"));
        Assert.True(Started("gateway") > Started("ingest"));
        Assert.True(Started("gateway") > Started("labeling-bridge"));
    }

    [Fact]
    public async Task Each_process_runs_with_the_Aspire_environment_contract()
    {
        var dashboard = App.DashboardUrl.GetLeftPart(UriPartial.Authority);
        foreach (var name in Projects)
        {
            foreach (var replica in App.GetReplicas(name))
            {
                var env = ProcessTable.EnvironmentOf(replica.ProcessId!.Value);
                Assert.Equal(replica.Url.GetLeftPart(UriPartial.Authority), env["ASPNETCORE_URLS"]);
                Assert.Equal("Development", env["DOTNET_ENVIRONMENT"]);
                Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
                Assert.Equal(name, env["OTEL_SERVICE_NAME"]);
                Assert.Equal($"service.instance.id={name}-{replica.Index}", env["OTEL_RESOURCE_ATTRIBUTES"]);
                Assert.Equal(dashboard, env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
                Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
                Assert.Equal("in_memory", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"]);
                Assert.Equal("1000", env["OTEL_BSP_SCHEDULE_DELAY"]);
                Assert.Equal("5000", env["OTEL_METRIC_EXPORT_INTERVAL"]);
                Assert.Equal("true", env["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
            }
        }

        var ingestUrl = App.GetEndpoint("ingest").GetLeftPart(UriPartial.Authority);
        var worker1 = ProcessTable.EnvironmentOf(App.GetReplicas("pipeline-worker")[1].ProcessId!.Value);
        Assert.Equal("pipeline-worker-1", worker1["Worker__ConsumerName"]);
        Assert.Equal(ingestUrl, worker1["services__ingest__http__0"]);
        Assert.Equal(ingestUrl, worker1["INGEST_HTTP"]);
        Assert.Equal(App.GetConnectionString("redis"), worker1["ConnectionStrings__redis"]);
        Assert.Equal(App.GetEndpoint("redis").Port.ToString(System.Globalization.CultureInfo.InvariantCulture), worker1["REDIS_PORT"]);

        var ingest = ProcessTable.EnvironmentOf(App.GetReplicas("ingest")[0].ProcessId!.Value);
        Assert.Equal(Path.Combine(App.DataDirectory, "ingest"), ingest["Storage__Root"]);

        // The gateway finds its upstreams through the variables it was given: they answer.
        var gateway = ProcessTable.EnvironmentOf(App.GetReplicas("gateway")[0].ProcessId!.Value);
        foreach (var upstream in new[] { "ingest", "labeling-bridge" })
        {
            var url = gateway[$"services__{upstream}__http__0"];
            using var response = await suite.Http.GetAsync(new Uri(new Uri(url), "/health/ready"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(gateway["services__labeling-bridge__http__0"], gateway["LABELING_BRIDGE_HTTP"]);

        // The redis connection string consumers get reaches a live server with AOF on, in the data folder.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(worker1["ConnectionStrings__redis"] + ",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        Assert.Equal("yes", server.ConfigGet("appendonly").Single().Value);
        Assert.Equal(Path.Combine(App.DataDirectory, "redis"), server.ConfigGet("dir").Single().Value);
    }

    [Fact]
    public async Task Services_export_telemetry_to_the_dashboards_OTLP_receiver()
    {
        var telemetry = new Uri(App.DashboardUrl, "/api/telemetry");
        await Eventually.UntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await suite.Http.GetStringAsync(telemetry));
            return json.RootElement.GetProperty("signals").GetProperty("metrics").GetProperty("requests").GetInt64() > 0;
        }, TimeSpan.FromSeconds(30), "the services' OTLP metric exports reach the dashboard");

        using var content = new ByteArrayContent([0x0a, 0x00]);
        content.Headers.ContentType = new("application/x-protobuf");
        using var response = await suite.Http.PostAsync(new Uri(App.DashboardUrl, "/v1/traces"), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        using var unknown = await suite.Http.PostAsync(new Uri(App.DashboardUrl, "/v1/profiles"), new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("otlp_signal_unknown", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Console_lines_of_each_replica_are_kept_and_served()
    {
        var logs = App.GetRecentLogs("redis");
        Assert.Contains("Ready to accept connections", logs, StringComparison.Ordinal);
        Assert.Contains("[apphost", logs, StringComparison.Ordinal);

        var served = await suite.Http.GetStringAsync(new Uri(App.DashboardUrl, "/api/resources/ingest/0/logs"));
        Assert.Contains("launched: pid " + App.GetReplicas("ingest")[0].ProcessId, served, StringComparison.Ordinal);

        using var missing = await suite.Http.GetAsync(new Uri(App.DashboardUrl, "/api/resources/ingest/7/logs"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_replica_held_down_stays_down_until_started_again_on_the_same_port()
    {
        var before = App.GetReplicas("pipeline-worker")[0];
        await App.StopReplicaAsync("pipeline-worker", 0);

        var stopped = App.GetReplicas("pipeline-worker")[0];
        Assert.Equal(ReplicaState.Stopped, stopped.State);
        Assert.Null(stopped.ProcessId);
        Assert.False(ProcessTable.IsAlive(before.ProcessId!.Value));
        Assert.Equal(ResourceHealth.Unhealthy, App.GetStatus().Overall);

        // Longer than the first restart delay (1 s): a held-down replica is not restarted.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            Assert.Null(App.GetReplicas("pipeline-worker")[0].ProcessId);
            await Task.Delay(100);
        }

        await App.StartReplicaAsync("pipeline-worker", 0);
        var after = App.GetReplicas("pipeline-worker")[0];
        Assert.True(after.IsHealthy);
        Assert.NotEqual(before.ProcessId, after.ProcessId);
        Assert.Equal(before.Url, after.Url);
        Assert.Equal(before.Restarts, after.Restarts);
        await Eventually.UntilAsync(() => App.GetStatus().Overall == ResourceHealth.Healthy, TimeSpan.FromSeconds(30), "the suite is healthy again");
    }
}
