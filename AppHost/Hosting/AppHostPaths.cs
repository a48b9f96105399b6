using System.Reflection;

namespace Suite.AppHost.Hosting;

/// <summary>Where the repository, the built services and the data folder are (from the AppHost's assembly metadata).</summary>
internal sealed class AppHostPaths
{
    private AppHostPaths(string repositoryRoot, string configuration)
    {
        RepositoryRoot = repositoryRoot;
        Configuration = configuration;
    }

    public string RepositoryRoot { get; }

    /// <summary>Build configuration of the AppHost (Debug, Release); services are taken from the same one.</summary>
    public string Configuration { get; }

    public static AppHostPaths FromAssembly()
    {
        var assembly = typeof(AppHostPaths).Assembly;
        var root = Metadata(assembly, "SuiteRepositoryRoot");
        var configuration = Metadata(assembly, "SuiteConfiguration");
        return new AppHostPaths(Path.GetFullPath(root), configuration);
    }

    /// <summary><c>&lt;repo&gt;/artifacts/bin/&lt;Project&gt;/&lt;configuration lower-case&gt;/&lt;Project&gt;.dll</c>.</summary>
    public string ProjectAssembly(string projectName) =>
        Path.Combine(RepositoryRoot, "artifacts", "bin", projectName, Configuration.ToLowerInvariant(), projectName + ".dll");

    public string DefaultDataDirectory => Path.Combine(RepositoryRoot, ".data");

    private static string Metadata(Assembly assembly, string key) =>
        assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The AppHost assembly carries no '{key}' metadata; it is set by AppHost.csproj.");
}
