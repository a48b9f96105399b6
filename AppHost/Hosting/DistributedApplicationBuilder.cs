using Microsoft.Extensions.Configuration;

namespace Suite.AppHost.Hosting;

/// <summary>
/// Collects the app model (resources and what they need) and the AppHost's configuration, like Aspire's
/// <c>DistributedApplication.CreateBuilder(args)</c>. Configuration: environment variables, then the command line.
/// </summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];
    private readonly List<string> _configurationErrors = [];
    private readonly TestingSession? _testing;

    internal DistributedApplicationBuilder(string[] args, TestingSession? testing)
    {
        ArgumentNullException.ThrowIfNull(args);
        _testing = testing;
        Paths = AppHostPaths.FromAssembly();

        Configuration = new ConfigurationManager();
        Configuration.AddEnvironmentVariables();
        if (testing is not null)
        {
            Configuration.AddInMemoryCollection(testing.DefaultSettings);
        }

        Configuration.AddCommandLine(args);

        EnvironmentName = Configuration["DOTNET_ENVIRONMENT"] is { Length: > 0 } dotnetEnv ? dotnetEnv
            : Configuration["ASPNETCORE_ENVIRONMENT"] is { Length: > 0 } aspnetEnv ? aspnetEnv
            : "Development";
        Options = SuiteOptions.Load(Configuration, _configurationErrors);
        DataDirectory = Path.GetFullPath(Options.DataDir ?? Paths.DefaultDataDirectory);
    }

    public ConfigurationManager Configuration { get; }

    /// <summary>The AppHost's environment (DOTNET_ENVIRONMENT, default Development), passed on to every service.</summary>
    public string EnvironmentName { get; }

    public SuiteOptions Options { get; }

    public IReadOnlyList<Resource> Resources => _resources;

    /// <summary>Where redis and the services keep their data (Suite:DataDir, default &lt;repo&gt;/.data).</summary>
    public string DataDirectory { get; }

    /// <summary>The gateway's host port (Suite:GatewayPort, default 8080); null means any free port.</summary>
    public int? GatewayPort => Options.GatewayPort == 0 ? null : Options.GatewayPort;

    internal AppHostPaths Paths { get; }

    internal IReadOnlyList<string> ConfigurationErrors => _configurationErrors;

    internal TestingSession? Testing => _testing;

    public static DistributedApplicationBuilder CreateBuilder(string[] args) =>
        new(args, DistributedApplicationTestingBuilder.CurrentSession);

    /// <summary>An absolute folder inside the data folder, for a resource's own files.</summary>
    public string DataPath(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Path.Combine(DataDirectory, name);
    }

    public IResourceBuilder<T> AddResource<T>(T resource)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new DistributedApplicationException($"A resource named '{resource.Name}' exists already; resource names are unique.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    /// <summary>A builder for a resource added earlier (tests use it to adjust the captured topology).</summary>
    public IResourceBuilder<Resource> CreateResourceBuilder(string name) =>
        new ResourceBuilder<Resource>(FindResource(name), this);

    /// <summary>
    /// Applies the configuration overrides and returns the application. Under the testing builder the entry point
    /// ends here: the builder is handed to the test, which adjusts it and builds it itself.
    /// </summary>
    public DistributedApplication Build()
    {
        ApplyConfigurationOverrides();
        if (_testing is not null)
        {
            _testing.Capture(this);
        }

        return BuildApplication();
    }

    internal DistributedApplication BuildApplication() => new(this);

    internal Resource FindResource(string name) =>
        _resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"No resource named '{name}'. Resources: {string.Join(", ", _resources.Select(r => r.Name))}.");

    /// <summary>Suite:Replicas:&lt;resource&gt; wins over WithReplicas; names that match no resource are reported.</summary>
    private void ApplyConfigurationOverrides()
    {
        foreach (var (name, count) in Options.Replicas)
        {
            var resource = _resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
            if (resource is null)
            {
                _configurationErrors.Add($"{SuiteOptions.SectionName}:Replicas:{name} names no resource. Resources: {string.Join(", ", _resources.Select(r => r.Name))}.");
            }
            else if (count >= 1)
            {
                resource.Annotations.Add(new ReplicasAnnotation(count));
            }
        }

        foreach (var name in Options.Env.Keys.Where(n => !_resources.Any(r => string.Equals(r.Name, n, StringComparison.OrdinalIgnoreCase))))
        {
            _configurationErrors.Add($"{SuiteOptions.SectionName}:Env:{name} names no resource. Resources: {string.Join(", ", _resources.Select(r => r.Name))}.");
        }
    }
}
