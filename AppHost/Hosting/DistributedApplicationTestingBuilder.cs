using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Suite.AppHost.Hosting;

/// <summary>
/// Builds the same topology as Program.cs for a test, like Aspire's testing builder: the AppHost's entry point
/// runs with the test's arguments until <c>builder.Build()</c>, which hands the configured builder over here
/// instead of running. The test may then adjust resources and build and start the application itself.
/// Test defaults (the test's arguments win): any free gateway and dashboard port, a fresh temp data folder
/// (deleted with the application), no echo of child logs, a 10 s stop timeout.
/// </summary>
public sealed class DistributedApplicationTestingBuilder
{
    private static readonly AsyncLocal<TestingSession?> Session = new();

    private readonly DistributedApplicationBuilder _builder;
    private readonly string? _ownedDataDirectory;

    private DistributedApplicationTestingBuilder(DistributedApplicationBuilder builder, string? ownedDataDirectory)
    {
        _builder = builder;
        _ownedDataDirectory = ownedDataDirectory;
    }

    /// <summary>The captured builder itself, e.g. to add a resource only a test needs.</summary>
    public DistributedApplicationBuilder ApplicationBuilder => _builder;

    public ConfigurationManager Configuration => _builder.Configuration;

    public SuiteOptions Options => _builder.Options;

    public IReadOnlyList<Resource> Resources => _builder.Resources;

    public string DataDirectory => _builder.DataDirectory;

    internal static TestingSession? CurrentSession => Session.Value;

    /// <summary>Runs the AppHost's Program up to <c>Build()</c> with <paramref name="args"/> and returns its builder.</summary>
    public static async Task<DistributedApplicationTestingBuilder> CreateAsync(string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var entryPoint = typeof(DistributedApplication).Assembly.EntryPoint
            ?? throw new InvalidOperationException("The AppHost assembly has no entry point.");
        var session = new TestingSession(Directory.CreateTempSubdirectory("apphost-test-").FullName);

        Session.Value = session;
        try
        {
            var result = entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [args]);
            if (result is Task task)
            {
                await task.WaitAsync(cancellationToken);
            }
        }
        catch (TargetInvocationException ex) when (ex.InnerException is BuilderCaptured)
        {
        }
        catch (BuilderCaptured)
        {
        }
        finally
        {
            Session.Value = null;
        }

        var builder = session.Builder ?? throw new InvalidOperationException("The AppHost's entry point ended without calling builder.Build().");
        var ownsTemp = string.Equals(builder.DataDirectory, session.DataDirectory, StringComparison.Ordinal);
        if (!ownsTemp)
        {
            Directory.Delete(session.DataDirectory, recursive: true);
        }

        return new DistributedApplicationTestingBuilder(builder, ownsTemp ? session.DataDirectory : null);
    }

    /// <summary>A builder for one of the captured resources, e.g. to change its replicas or environment.</summary>
    public IResourceBuilder<Resource> CreateResourceBuilder(string name) => _builder.CreateResourceBuilder(name);

    public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var app = _builder.BuildApplication();
        app.DeleteDataDirectoryOnDispose = _ownedDataDirectory is not null;
        return Task.FromResult(app);
    }
}

/// <summary>State shared between the testing builder and the AppHost's entry point while it runs in capture mode.</summary>
internal sealed class TestingSession(string dataDirectory)
{
    public string DataDirectory { get; } = dataDirectory;

    public DistributedApplicationBuilder? Builder { get; private set; }

    public IEnumerable<KeyValuePair<string, string?>> DefaultSettings =>
    [
        new("Suite:GatewayPort", "0"),
        new("Suite:DashboardPort", "0"),
        new("Suite:DataDir", DataDirectory),
        new("Suite:EchoLogs", "false"),
        new("Suite:StopTimeoutSeconds", "10"),
    ];

    /// <summary>Takes the builder and ends the entry point (the sentinel is caught by the testing builder).</summary>
    public void Capture(DistributedApplicationBuilder builder)
    {
        Builder = builder;
        throw new BuilderCaptured();
    }
}

/// <summary>Sentinel that ends the AppHost's entry point once its builder is captured; never seen outside.</summary>
internal sealed class BuilderCaptured : Exception
{
    public BuilderCaptured()
        : base("The testing builder captured the AppHost's builder.")
    {
    }
}
