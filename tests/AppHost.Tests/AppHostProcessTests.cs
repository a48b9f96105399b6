using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AppHost.Tests;

/// <summary><c>dotnet run --project AppHost</c> as a person runs it, with its launch profile and the Aspire dashboard.</summary>
public sealed partial class AppHostProcessTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("apphost-process-test-").FullName;

    [Theory]
    [InlineData("TERM", false)]
    [InlineData("INT", true)] // Ctrl+C in a terminal: SIGINT to the whole foreground process group
    [Trait("Req", "SD-1")]
    public async Task The_suite_starts_under_DCP_with_the_dashboard_and_a_signal_stops_every_process_it_started(string signal, bool toProcessGroup)
    {
        using var host = StartAppHost(environment: null);
        try
        {
            var login = await Eventually.ValueAsync(() => Task.FromResult(LoginLine().Match(host.Output) is { Success: true } m ? m.Groups[1].Value : null),
                TimeSpan.FromSeconds(120), "the AppHost prints the dashboard's login URL");
            Assert.Contains("/login?t=", login, StringComparison.Ordinal);

            // Every service runs: the gateway's port is in the process table once ingest (and all it waits for) is healthy.
            List<int> pids = [];
            await Eventually.UntilAsync(() =>
            {
                pids = SuiteProcesses(host.Process.Id);
                return pids.Count(IsService) == 8;
            }, TimeSpan.FromSeconds(150), "redis-server, clamd and the six services (two workers) run", TimeSpan.FromMilliseconds(500));

            var target = toProcessGroup ? -host.Process.Id : host.Process.Id;
            await ProcessTree.SignalAsync(target, signal);
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
            {
                await host.Process.WaitForExitAsync(exit.Token);
            }

            host.Process.WaitForExit(); // drains its output
            await Eventually.UntilAsync(() => pids.All(pid => !ProcessTree.IsAlive(pid)), TimeSpan.FromSeconds(30),
                $"no process outlives the AppHost: {string.Join(", ", pids.Where(ProcessTree.IsAlive).Select(Describe))}\n{host.Output}");
        }
        finally
        {
            host.KillIfRunning();
        }
    }

    [Fact]
    public async Task Without_redis_server_on_PATH_the_AppHost_says_how_to_install_it_and_fails()
    {
        // A PATH with dotnet on it and nothing else.
        var bin = Directory.CreateDirectory(Path.Combine(_dataDirectory, "bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "dotnet"), DotnetHost);
        using var host = StartAppHost(new Dictionary<string, string> { ["PATH"] = bin });
        try
        {
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
            {
                await host.Process.WaitForExitAsync(exit.Token);
            }

            host.Process.WaitForExit();
            Assert.NotEqual(0, host.Process.ExitCode);
            Assert.Contains("apt-get install -y redis-server", host.Output, StringComparison.Ordinal);
        }
        finally
        {
            host.KillIfRunning();
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "/usr/bin/dotnet";

    /// <summary>
    /// Everything the run started: the descendants of <c>dotnet run</c>, and DCP, which detaches itself but names the
    /// AppHost it serves (<c>--monitor pid</c>), with its own descendants.
    /// </summary>
    private static List<int> SuiteProcesses(int dotnetRun)
    {
        var tree = ProcessTree.Descendants(dotnetRun).ToList();
        var monitors = tree.Select(p => $"--monitor {p.ToString(CultureInfo.InvariantCulture)} ").ToList();
        var dcp = Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d))
            .Where(n => int.TryParse(n, out _)).Select(n => int.Parse(n, CultureInfo.InvariantCulture))
            .Where(pid => CommandLine(pid) is var c && monitors.Any(m => (c + " ").Contains(m, StringComparison.Ordinal)))
            .ToList();
        return [.. tree, .. dcp, .. dcp.SelectMany(ProcessTree.Descendants)];
    }

    private static bool IsService(int pid) =>
        CommandLine(pid) is var c && (c.StartsWith("redis-server", StringComparison.Ordinal) || c.Contains("clamd --config-file=", StringComparison.Ordinal)
            || c.Contains("/artifacts/bin/", StringComparison.Ordinal) && !c.Contains("AppHost", StringComparison.Ordinal));

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string Describe(int pid) => $"{pid} {CommandLine(pid)}";

    private RunningAppHost StartAppHost(Dictionary<string, string>? environment)
    {
        // setsid: dotnet run leads its own process group, as a terminal's foreground job does. perl puts SIGINT back to
        // its default: a process started in the background inherits SIGINT ignored, which a terminal's job never has.
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.RepoRoot,
        };
        foreach (var argument in new[]
                 {
                     "/usr/bin/perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die", DotnetHost, "run", "--project", "AppHost", "--no-build", "--",
                     "--Suite:GatewayPort=0", $"--Suite:DataDir={Path.Combine(_dataDirectory, "data")}",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        return new RunningAppHost(Process.Start(info) ?? throw new InvalidOperationException("setsid did not start"));
    }

    [GeneratedRegex(@"Login to the dashboard at (http://\S+)")]
    private static partial Regex LoginLine();

    private sealed class RunningAppHost : IDisposable
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public RunningAppHost(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output => string.Join('\n', _lines);

        public void KillIfRunning()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }

        public void Dispose() => Process.Dispose();

        private void Keep(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }
    }
}
