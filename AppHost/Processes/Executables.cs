namespace Suite.AppHost.Processes;

/// <summary>Finds the programs the AppHost starts.</summary>
internal static class Executables
{
    /// <summary>The first executable file named <paramref name="name"/> on PATH, or null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The dotnet host that runs the services: the one running us when we run under dotnet (also in a test host),
    /// else DOTNET_HOST_PATH, else dotnet on PATH, else under DOTNET_ROOT.
    /// </summary>
    public static string? FindDotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        var onPath = FindOnPath("dotnet");
        if (onPath is not null)
        {
            return onPath;
        }

        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        var underRoot = root is null ? null : Path.Combine(root, "dotnet");
        return underRoot is not null && File.Exists(underRoot) ? underRoot : null;
    }

    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows()
        || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
