using System.Diagnostics;

namespace Suite.Testing;

/// <summary>A finished child process: its exit code and everything it printed.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}--- stderr\n{Error}";
}

/// <summary>Runs a real program to its end (bounded: killed with its children after the timeout).</summary>
public static class ProcessRun
{
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException(fileName + " did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds:F0} s:\n{await output}{await error}");
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }

    /// <summary>
    /// Runs a service's own binary (<c>dotnet artifacts/bin/{project}/{configuration}/{project}.dll</c>, the same
    /// configuration as the calling test build) with <paramref name="arguments"/>, from the binary's folder, as an
    /// operator would run a maintenance command. The test project must reference the service so it is built.
    /// </summary>
    public static Task<ProcessResult> ServiceAsync(
        string project, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var dll = Path.Combine(RepoPaths.RepoRoot, "artifacts", "bin", project, configuration, project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{project} is not built at {dll}; build the solution first.", dll);
        }

        return RunAsync("dotnet", arguments.Prepend(dll), timeout, environment, Path.GetDirectoryName(dll));
    }

    /// <summary>
    /// The real <c>dd</c> writing <paramref name="count"/> blocks of <paramref name="blockSize"/> bytes from
    /// <paramref name="source"/> (e.g. /dev/urandom, /dev/zero) into <paramref name="file"/> at block
    /// <paramref name="seek"/>, in place (conv=notrunc): how an operator (or a bad disk) damages a file.
    /// </summary>
    public static async Task DdAsync(string file, string source, int blockSize, int count, long seek)
    {
        var result = await RunAsync("dd", [$"if={source}", $"of={file}", $"bs={blockSize}", $"count={count}", $"seek={seek}", "conv=notrunc,fsync"], TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("dd failed: " + result);
        }
    }
}
