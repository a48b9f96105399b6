using Suite.AppHost.Processes;

namespace AppHost.Tests;

/// <summary>The app model and its rules, without starting processes.</summary>
public sealed class AppModelTests
{
    [Fact]
    public async Task A_configured_label_studio_replaces_the_emulator_and_the_bridge_is_pointed_at_it()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync(
            ["--Suite:LabelStudio:Url=https://labelstudio.example.test", "--Suite:LabelStudio:ApiKey=real-key"]);
        try
        {
            Assert.DoesNotContain(builder.Resources, r => r.Name == "labelstudio");
            var bridge = builder.Resources.Single(r => r.Name == "labeling-bridge");
            var gateway = builder.Resources.Single(r => r.Name == "gateway");
            var ports = new Dictionary<Resource, IReadOnlyList<int>> { [gateway] = [8123] };
            var env = bridge.Annotations.OfType<EnvironmentAnnotation>().ToDictionary(a => a.Name, a => a.Value(new ReplicaContext(bridge, 0, ports)));
            Assert.Equal("https://labelstudio.example.test", env["LabelStudio__Url"]);
            Assert.Equal("real-key", env["LabelStudio__ApiKey"]);
            Assert.Equal("true", env["LabelStudio__Enabled"]);
            Assert.Equal("http://127.0.0.1:8123", env["Bridge__PublicBaseUrl"]);
            Assert.DoesNotContain(bridge.Annotations.OfType<WaitAnnotation>(), a => a.Target.Name.StartsWith("label", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(builder.DataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_testing_builder_captures_the_topology_of_Program_cs_with_test_defaults()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync([]);
        try
        {
            Assert.Equal(["redis", "ingest", "pipeline-worker", "labelstudio", "labeling-bridge", "gateway"], builder.Resources.Select(r => r.Name));
            Assert.Equal(2, builder.Resources.Single(r => r.Name == "pipeline-worker").Replicas);
            Assert.Equal(0, builder.Options.GatewayPort);
            Assert.Equal(0, builder.Options.DashboardPort);
            Assert.False(builder.Options.EchoLogs);
            Assert.Equal(10, builder.Options.StopTimeoutSeconds);
            Assert.StartsWith(Path.GetTempPath(), builder.DataDirectory, StringComparison.Ordinal);

            var gateway = builder.Resources.Single(r => r.Name == "gateway");
            Assert.Equal(["ingest", "labeling-bridge"], gateway.Annotations.OfType<WaitAnnotation>().Select(a => a.Target.Name));
            Assert.Null(gateway.Annotations.OfType<HttpEndpointAnnotation>().Single().Port);
        }
        finally
        {
            Directory.Delete(builder.DataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Configuration_overrides_replicas_and_adds_environment_per_resource()
    {
        var dataDir = Directory.CreateTempSubdirectory("apphost-model-").FullName;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync(
                ["--Suite:Replicas:pipeline-worker=3", "--Suite:Env:ingest:Ingest__QueueLimit=5", $"--Suite:DataDir={dataDir}", "--Suite:GatewayPort=18080"]);
            Assert.Equal(dataDir, builder.DataDirectory);
            Assert.Equal(3, builder.Resources.Single(r => r.Name == "pipeline-worker").Replicas);
            Assert.Equal("5", builder.Options.Env["ingest"]["Ingest__QueueLimit"]);
            Assert.Equal(18080, builder.Resources.Single(r => r.Name == "gateway").Annotations.OfType<HttpEndpointAnnotation>().Single().Port);

            // A test's own adjustment comes after the configuration and wins.
            builder.CreateResourceBuilder("pipeline-worker").WithReplicas(1);
            Assert.Equal(1, builder.Resources.Single(r => r.Name == "pipeline-worker").Replicas);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Invalid_configuration_is_reported_in_words_before_anything_starts()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync(
            ["--Suite:StopTimeoutSeconds=0", "--Suite:EchoLogs=maybe", "--Suite:Replicas:nosuch=2", "--Suite:Env:ghost:X=1"]);
        await using var app = await builder.BuildAsync();
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());
        Assert.Contains("Suite:StopTimeoutSeconds", error.Message, StringComparison.Ordinal);
        Assert.Contains("Suite:EchoLogs is 'maybe'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Suite:Replicas:nosuch names no resource", error.Message, StringComparison.Ordinal);
        Assert.Contains("Suite:Env:ghost names no resource", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => app.DashboardUrl);
    }

    [Fact]
    public async Task A_dependency_cycle_and_a_fixed_port_with_replicas_are_rejected()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync(["--Suite:GatewayPort=18081"]);
        builder.CreateResourceBuilder("redis").WaitFor(builder.CreateResourceBuilder("gateway"));
        builder.CreateResourceBuilder("gateway").WithReplicas(2);
        await using var app = await builder.BuildAsync();
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());
        Assert.Contains("Dependency cycle: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'gateway' has the fixed port 18081 and 2 replicas", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Restart_delays_double_from_1_s_up_to_30_s_and_reset_after_a_minute_of_health()
    {
        var backoff = new RestartBackoff();
        var delays = Enumerable.Range(0, 7).Select(_ => backoff.Next(TimeSpan.Zero).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], delays);
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.Next(TimeSpan.FromSeconds(60)));
        Assert.Equal(TimeSpan.FromSeconds(2), backoff.Next(TimeSpan.FromSeconds(59)));
    }

    [Theory]
    [InlineData("ingest", "INGEST")]
    [InlineData("labeling-bridge", "LABELING_BRIDGE")]
    [InlineData("pipeline-worker2", "PIPELINE_WORKER2")]
    public void Reference_variable_names_are_encoded_as_Aspire_does(string resource, string encoded) =>
        Assert.Equal(encoded, EnvironmentContract.EncodeName(resource));

    [Fact]
    public void The_console_buffer_keeps_only_the_last_lines()
    {
        var buffer = new LogBuffer(3);
        foreach (var line in new[] { "a", "b", "c", "d" })
        {
            buffer.Add(line);
        }

        Assert.Equal("b\nc\nd\n", buffer.Text());
        Assert.Equal(["c", "d"], buffer.Tail(2));
    }

    [Theory]
    [InlineData("")]
    [InlineData("9lives")]
    [InlineData("has space")]
    [InlineData("trailing-")]
    public void Resource_names_follow_Aspires_rules(string name) =>
        Assert.ThrowsAny<ArgumentException>(() => new RedisResource(name));
}
