using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Suite.AppHost.Processes;

namespace AppHost.Tests;

/// <summary>The built AppHost run as a real process, the way a person runs it.</summary>
public sealed partial class AppHostProcessTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("apphost-process-test-").FullName;

    [Fact]
    public async Task Ctrl_C_stops_every_child_in_reverse_dependency_order_and_exits_0()
    {
        using var host = StartAppHost(environment: null);
        try
        {
            var dashboard = await Eventually.ValueAsync(
                () => Task.FromResult(DashboardLine().Match(host.Output) is { Success: true } m ? m.Groups[1].Value : null),
                TimeSpan.FromSeconds(60), "the AppHost prints its dashboard URL");

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            List<int> pids = [];
            await Eventually.UntilAsync(async () =>
            {
                using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(new Uri(dashboard), "/api/resources")));
                pids = json.RootElement.GetProperty("resources").EnumerateArray()
                    .SelectMany(r => r.GetProperty("instances").EnumerateArray())
                    .Select(i => i.GetProperty("processId").ValueKind == JsonValueKind.Number ? i.GetProperty("processId").GetInt32() : 0)
                    .ToList();
                return json.RootElement.GetProperty("overall").GetString() == "Healthy";
            }, TimeSpan.FromSeconds(90), "the dashboard reports every resource healthy", TimeSpan.FromMilliseconds(500));
            Assert.Equal(7, pids.Count); // redis, ingest, 2 workers, labelstudio emulator, bridge, gateway
            Assert.All(pids, pid => Assert.True(ProcessTable.IsAlive(pid)));

            Assert.True(PosixSignals.Send(host.Process.Id, Signal.Interrupt));
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await host.Process.WaitForExitAsync(exit.Token);
            }

            host.Process.WaitForExit(); // the process is gone; this drains its output

            Assert.True(host.Process.ExitCode == 0, $"exit code {host.Process.ExitCode}; output:\n{host.Output}");
            Assert.All(pids, pid => Assert.False(ProcessTable.IsAlive(pid), $"child pid {pid} outlived the AppHost"));

            var output = host.Output;
            int Position(string text) => output.IndexOf(text, StringComparison.Ordinal) is var at and >= 0 ? at : throw new Xunit.Sdk.XunitException($"'{text}' not in output:\n{output}");
            Assert.True(Position("Stopping gateway") < Position("Stopping pipeline-worker, labeling-bridge"));
            Assert.True(Position("Stopping pipeline-worker, labeling-bridge") < Position("Stopping ingest"));
            Assert.True(Position("Stopping ingest") < Position("Stopping redis"));
        }
        finally
        {
            host.KillIfRunning();
        }
    }

    [Fact]
    public async Task Without_redis_server_on_PATH_the_AppHost_says_how_to_install_it_and_fails()
    {
        var emptyPath = Directory.CreateDirectory(Path.Combine(_dataDirectory, "empty-bin")).FullName;
        using var host = StartAppHost(new Dictionary<string, string> { ["PATH"] = emptyPath });
        try
        {
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await host.Process.WaitForExitAsync(exit.Token);
            }

            host.Process.WaitForExit(); // the process is gone; this drains its output

            Assert.NotEqual(0, host.Process.ExitCode);
            Assert.Contains("apt-get install -y redis-server", host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal); // a message, not a stack trace
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

    private RunningAppHost StartAppHost(Dictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(ProcessTable.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.RepoRoot,
        };
        foreach (var argument in new[]
                 {
                     ProcessTable.AppHostAssembly, "--Suite:GatewayPort=0", "--Suite:DashboardPort=0",
                     $"--Suite:DataDir={Path.Combine(_dataDirectory, "data")}", "--Suite:EchoLogs=false", "--Suite:StopTimeoutSeconds=15",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        return new RunningAppHost(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    [GeneratedRegex(@"Dashboard: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex DashboardLine();

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
