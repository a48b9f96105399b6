using System.Reflection;

namespace AppHost.Tests;

/// <summary>What the kernel says about processes, and how to start the built AppHost as a process.</summary>
internal static class ProcessTable
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            var state = status.FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) ?? "";
            return !state.Contains('Z', StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    /// <summary>The environment the kernel holds for a process (what it was really started with).</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentOf(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ")
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Split('=', 2))
            .GroupBy(pair => pair[0])
            .ToDictionary(g => g.Key, g => g.Last().Length > 1 ? g.Last()[1] : "");

    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>artifacts/bin/AppHost/&lt;configuration&gt;/AppHost.dll, built with these tests.</summary>
    public static string AppHostAssembly
    {
        get
        {
            var configuration = typeof(ProcessTable).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(RepoPaths.RepoRoot, "artifacts", "bin", "AppHost", configuration.ToLowerInvariant(), "AppHost.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("The AppHost is not built (dotnet build AppHost/AppHost.csproj)", path);
        }
    }
}
