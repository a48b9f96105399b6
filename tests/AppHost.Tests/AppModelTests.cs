using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Redis;
using Aspire.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>The topology Program.cs declares, read from Aspire's model without starting anything.</summary>
public sealed class AppModelTests
{
    [Fact]
    public async Task Program_declares_the_suite_with_redis_server_as_a_process_and_two_workers()
    {
        var builder = await SuiteAppBuilder.CreateAsync();
        var resources = builder.Builder.Resources;

        var redis = Assert.IsType<RedisServerResource>(resources.Single(r => r.Name == "redis"));
        Assert.Equal("redis-server", redis.Command);
        var args = await ArgumentsOf(redis);
        Assert.Equal("yes", After(args, "--appendonly"));
        Assert.Equal("everysec", After(args, "--appendfsync"));
        Assert.Equal("noeviction", After(args, "--maxmemory-policy"));
        Assert.Equal("127.0.0.1", After(args, "--bind"));
        Assert.Equal(Path.Combine(builder.DataDirectory, "redis"), After(args, "--dir"));
        Assert.NotEqual("6379", After(args, "--port")); // chosen free, never Redis's well-known port

        foreach (var name in new[] { "ingest", "pipeline-worker", "labelstudio", "labeling-bridge", "gateway" })
        {
            var project = Assert.IsType<ProjectResource>(resources.Single(r => r.Name == name), exactMatch: false);
            Assert.True(project.TryGetLastAnnotation<RestartOnCrashAnnotation>(out _), $"{name} is restarted after a crash");
            Assert.Contains(project.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
        }

        Assert.Equal(2, resources.Single(r => r.Name == "pipeline-worker").Annotations.OfType<ReplicaAnnotation>().Single().Replicas);
        Assert.True(redis.TryGetLastAnnotation<RestartOnCrashAnnotation>(out _));
    }

    [Fact]
    public async Task The_gateway_listens_on_8080_unless_configured_otherwise()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"--Suite:DataDir={Path.GetTempPath()}suite-model"]);
        var endpoint = builder.Resources.Single(r => r.Name == "gateway").Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
        Assert.Equal(8080, endpoint.Port);

        await using var other = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Suite:GatewayPort=9191", $"--Suite:DataDir={Path.GetTempPath()}suite-model"]);
        Assert.Equal(9191, other.Resources.Single(r => r.Name == "gateway").Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").Port);
    }

    [Fact]
    public async Task In_publish_mode_redis_is_Aspires_redis_container_under_the_same_name()
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--operation", "publish", "--publisher", "manifest", $"--Suite:DataDir={Path.GetTempPath()}suite-model"]);
        Assert.IsType<RedisResource>(builder.Resources.Single(r => r.Name == "redis"));
    }

    [Fact]
    public async Task Without_parameters_labelstudio_is_the_emulator_announced_as_such()
    {
        var builder = await SuiteAppBuilder.CreateAsync();
        var emulator = Assert.IsType<ProjectResource>(builder.Builder.Resources.Single(r => r.Name == "labelstudio"), exactMatch: false);
        Assert.Contains(emulator.Annotations.OfType<ResourceUrlsCallbackAnnotation>(), _ => true);
        var bridge = await EnvironmentOf(builder.Builder.Resources.Single(r => r.Name == "labeling-bridge"));
        Assert.Equal(await EnvironmentOf(emulator) is var e ? e["Emulator__LegacyToken"] : null, bridge["LabelStudio__ApiKey"]);
    }

    [Fact]
    public async Task Given_labelstudio_parameters_the_bridge_uses_that_Label_Studio_and_no_emulator_runs()
    {
        var builder = await SuiteAppBuilder.CreateAsync(["--Parameters:labelstudio-url=http://labelstudio.example:8080", "--Parameters:labelstudio-apikey=secret-key"]);
        Assert.DoesNotContain(builder.Builder.Resources, r => r.Name == "labelstudio");
        var bridge = await EnvironmentOf(builder.Builder.Resources.Single(r => r.Name == "labeling-bridge"));
        Assert.Equal("http://labelstudio.example:8080", bridge["LabelStudio__Url"]);
        Assert.Equal("secret-key", bridge["LabelStudio__ApiKey"]);
        var key = Assert.IsType<ParameterResource>(builder.Builder.Resources.Single(r => r.Name == "labelstudio-apikey"));
        Assert.True(key.Secret);
    }

    [Fact]
    [Trait("Req", "AV-1")]
    [Trait("Req", "AV-2")]
    public async Task Clamav_is_clamd_on_a_generated_config_with_the_shipped_signatures_and_ingest_references_it_without_waiting()
    {
        var builder = await SuiteAppBuilder.CreateAsync();
        var resources = builder.Builder.Resources;

        var clamav = Assert.IsType<ClamAvResource>(resources.Single(r => r.Name == "clamav"));
        Assert.Equal("clamd", Path.GetFileName(clamav.Command));
        Assert.Equal(["--config-file=" + clamav.ConfigFile], await ArgumentsOf(clamav));
        Assert.True(clamav.TryGetLastAnnotation<RestartOnCrashAnnotation>(out _), "clamd is restarted after a crash");
        Assert.Contains(clamav.Annotations.OfType<HealthCheckAnnotation>(), _ => true);

        // The config the AppHost wrote: foreground, loopback TCP on a chosen port, the shipped signatures, the upload limit.
        var config = File.ReadAllLines(clamav.ConfigFile).Where(l => !l.StartsWith('#')).ToDictionary(l => l.Split(' ')[0], l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(Path.Combine(builder.DataDirectory, "clamav", "clamd.conf"), clamav.ConfigFile);
        Assert.Equal("yes", config["Foreground"]);
        Assert.Equal("127.0.0.1", config["TCPAddr"]);
        Assert.NotEqual("3310", config["TCPSocket"]);
        Assert.Equal(Path.Combine(builder.DataDirectory, "clamav", "db"), config["DatabaseDirectory"]);
        Assert.Equal(["suite-test.ndb"], Directory.GetFiles(config["DatabaseDirectory"]).Select(Path.GetFileName));
        Assert.True(long.Parse(config["StreamMaxLength"], System.Globalization.CultureInfo.InvariantCulture) >= 100L * 1024 * 1024);
        Assert.Equal(config["StreamMaxLength"], config["MaxFileSize"]);

        // Ingest gets its connection string but does not wait for it: uploads go on while the scanner is down.
        var ingest = resources.Single(r => r.Name == "ingest");
        Assert.Contains("ConnectionStrings__clamav", (await EnvironmentOf(ingest)).Keys);
        Assert.DoesNotContain(ingest.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "clamav");
        Assert.Contains(ingest.Annotations.OfType<WaitAnnotation>(), w => w.Resource.Name == "redis");
    }

    [Fact]
    [Trait("Req", "AV-1")]
    public async Task In_publish_mode_or_given_a_connection_string_clamav_is_an_external_clamd()
    {
        await using var publish = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--operation", "publish", "--publisher", "manifest", $"--Suite:DataDir={Path.GetTempPath()}suite-model"]);
        var published = publish.Resources.Single(r => r.Name == "clamav");
        Assert.IsNotType<ClamAvResource>(published);
        Assert.IsAssignableFrom<IResourceWithConnectionString>(published);

        var external = await SuiteAppBuilder.CreateAsync(["--ConnectionStrings:clamav=tcp://clamav.example:3310"]);
        var resource = external.Builder.Resources.Single(r => r.Name == "clamav");
        Assert.IsNotType<ClamAvResource>(resource);
        Assert.Equal("tcp://clamav.example:3310", await ((IResourceWithConnectionString)resource).GetConnectionStringAsync());
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    [Trait("Req", "SEC-2")]
    public async Task The_gateway_gets_the_development_key_as_a_secret_parameter_unless_one_is_configured_and_ingests_upload_limit()
    {
        var builder = await SuiteAppBuilder.CreateAsync(["--Ingest:MaxUploadBytes=5000000"]);
        var gateway = await EnvironmentOf(builder.Builder.Resources.Single(r => r.Name == "gateway"));
        Assert.Equal("local", gateway["Gateway__ApiKeys__0__Name"]);
        Assert.Equal("suite-dev-key", gateway["Gateway__ApiKeys__0__Key"]);
        Assert.Equal("6048576", gateway["ReverseProxy__Routes__uploads__MaxRequestBodySize"]);
        Assert.True(Assert.IsType<ParameterResource>(builder.Builder.Resources.Single(r => r.Name == "gateway-api-key")).Secret);

        var configured = await SuiteAppBuilder.CreateAsync(["--Parameters:gateway-api-key=an-operator-chosen-key"]);
        var withKey = await EnvironmentOf(configured.Builder.Resources.Single(r => r.Name == "gateway"));
        Assert.Equal("an-operator-chosen-key", withKey["Gateway__ApiKeys__0__Key"]);
        Assert.Equal("105906176", withKey["ReverseProxy__Routes__uploads__MaxRequestBodySize"]);
    }

    [Fact]
    public void Restart_delays_double_from_1_s_up_to_30_s()
    {
        var policy = new RestartOnCrashAnnotation();
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(n => (int)policy.DelayBefore(n).TotalSeconds));
    }

    private static string After(IReadOnlyList<string> args, string flag) => args[args.ToList().IndexOf(flag) + 1];

    private static async Task<IReadOnlyList<string>> ArgumentsOf(IResource resource)
    {
        var values = new List<object>();
        var context = new CommandLineArgsCallbackContext(values, resource);
        foreach (var callback in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return values.Select(v => v.ToString()!).ToList();
    }

    /// <summary>The environment the AppHost would give a resource: strings and parameters resolved, endpoints (not allocated
    /// without a run) by name only.</summary>
    private static async Task<Dictionary<string, string>> EnvironmentOf(IResource resource)
    {
        var values = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run), resource, values);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            result[name] = value switch
            {
                string text => text,
                ParameterResource parameter => await parameter.GetValueAsync(default) ?? "",
                _ => value.ToString() ?? "",
            };
        }

        return result;
    }
}
