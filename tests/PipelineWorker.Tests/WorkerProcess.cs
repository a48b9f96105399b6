using System.Collections.Concurrent;
using System.Diagnostics;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// The real PipelineWorker, started as a process the way the AppHost starts it: the same binary, configured only
/// through environment variables (ConnectionStrings__redis, services__ingest__http__0, Worker__*).
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Output => string.Join('\n', _output);

    public static async Task<WorkerProcess> StartAsync(string redis, string ingest, string consumerName, IDictionary<string, string>? settings = null)
    {
        var port = FreePort.Next();
        var process = Process.Start(StartInfo(redis, ingest, consumerName, port, settings)) ?? throw new InvalidOperationException("dotnet did not start");
        var worker = new WorkerProcess(process, port);
        process.OutputDataReceived += (_, e) => worker.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.UntilAsync(
            async () => process.HasExited
                ? throw new Xunit.Sdk.XunitException($"The worker exited with code {process.ExitCode} before it was ready:\n{worker.Output}")
                : (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(90),
            "the worker answers /health/ready");
        return worker;
    }

    /// <summary>Starts a worker expected to refuse to start; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string redis, string ingest, IDictionary<string, string> settings, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(redis, ingest, "pipeline-worker-refused", FreePort.Next(), settings))
            ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The worker did not exit: " + await output);
        }

        return (process.ExitCode, await output + "\n" + await errors);
    }

    public int ProcessId => _process.Id;

    private static ProcessStartInfo StartInfo(string redis, string ingest, string consumerName, int port, IDictionary<string, string>? settings)
    {
        // Same configuration as this test build (artifacts/bin/PipelineWorker.Tests/<config>/).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var dll = Path.Combine(RepoPaths.RepoRoot, "artifacts", "bin", "PipelineWorker", configuration, "PipelineWorker.dll");
        Assert.True(File.Exists(dll), $"Worker binary not built: {dll}");

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.ArgumentList.Add(dll);
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
        psi.Environment["ConnectionStrings__redis"] = redis;
        psi.Environment["services__ingest__http__0"] = ingest;
        psi.Environment["Worker__ConsumerName"] = consumerName;
        psi.Environment["Worker__PollMaxDelayMs"] = "200";
        psi.Environment["Resilience__IngestClient__Retry__Delay"] = "00:00:00.050";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        return psi;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGTERM, as an orchestrator stops a service; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
        return _process.ExitCode;
    }

    public bool Logged(string text) => _output.Any(l => l.Contains(text, StringComparison.Ordinal));

    private void Collect(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
