using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Suite.Testing;

/// <summary>
/// Builds the real AppHost (Projects.AppHost) through <see cref="DistributedApplicationTestingBuilder"/> with test
/// defaults (a fresh data folder, the gateway on any free port, no dashboard unless asked for) and the overrides a
/// test needs: replicas, environment per resource, restart policy.
/// </summary>
public sealed class SuiteAppBuilder
{
    private SuiteAppBuilder(IDistributedApplicationTestingBuilder builder, string dataDirectory, bool keepData)
    {
        Builder = builder;
        DataDirectory = dataDirectory;
        KeepDataDirectory = keepData;
    }

    public IDistributedApplicationTestingBuilder Builder { get; }

    public string DataDirectory { get; }

    /// <summary>Leave the data folder when the app is disposed (a test that inspects it afterwards).</summary>
    public bool KeepDataDirectory { get; set; }

    /// <summary>The AppHost's builder after Program.cs declared the topology; <paramref name="args"/> are AppHost configuration.</summary>
    public static async Task<SuiteAppBuilder> CreateAsync(string[]? args = null, bool dashboard = false)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("suite-apphost-").FullName;
        string[] defaults = [$"--Suite:DataDir={dataDirectory}", "--Suite:GatewayPort=0", .. dashboard ? DashboardDefaults() : []];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [.. defaults, .. args ?? []],
            (options, _) =>
            {
                options.DisableDashboard = !dashboard;
                options.AllowUnsecuredTransport = true;
            });
        if (!dashboard)
        {
            // Without a dashboard nobody receives OTLP: services would retry exports to a dead port, and a stop would
            // wait for their last flush. A test that wants telemetry points them at an OtlpCollector.
            foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
            {
                builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
            }
        }

        return new SuiteAppBuilder(builder, dataDirectory, keepData: false);
    }

    /// <summary>
    /// The dashboard's addresses, each on a loopback port free now instead of the launch profile's fixed 18888-18890
    /// (a developer's AppHost or another suite may hold those): the frontend and OTLP endpoints, which DCP proxies (and
    /// Aspire.Hosting.Testing moves to random ports: <see cref="SuiteApp.GetDashboardEndpoint"/> has the real one), and
    /// the resource service the AppHost serves the dashboard from, which listens where it is told.
    /// </summary>
    private static string[] DashboardDefaults() =>
    [
        $"--ASPNETCORE_URLS=http://localhost:{FreePort.Next()}",
        $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
        $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
        "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
    ];

    public IResourceBuilder<ProjectResource> Project(string name) => Builder.CreateResourceBuilder<ProjectResource>(name);

    public SuiteAppBuilder WithReplicas(string project, int replicas)
    {
        Project(project).WithReplicas(replicas);
        return this;
    }

    /// <summary>Adds (or replaces) environment variables of a project resource.</summary>
    public SuiteAppBuilder WithEnvironment(string project, IEnumerable<KeyValuePair<string, string>> variables)
    {
        var resource = Project(project);
        foreach (var (name, value) in variables)
        {
            resource.WithEnvironment(name, value);
        }

        return this;
    }

    public SuiteAppBuilder WithEnvironment(string project, string name, string value) =>
        WithEnvironment(project, [new KeyValuePair<string, string>(name, value)]);

    public SuiteAppBuilder WithEnvironment(string project, string name, int value) =>
        WithEnvironment(project, name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Builds and starts the suite; waits until every resource is healthy (3 minutes at most).</summary>
    public async Task<SuiteApp> StartAsync(TimeSpan? timeout = null)
    {
        var app = new SuiteApp(await Builder.BuildAsync(), DataDirectory, KeepDataDirectory);
        try
        {
            await app.StartAsync(timeout ?? TimeSpan.FromMinutes(3));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }
}
