using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The real IngestService as a child process (<c>dotnet IngestService.dll</c>, the binary this test project builds),
/// configured only through environment variables as an orchestrator runs it, so that a test can send it SIGTERM and
/// watch it drain and exit.
/// </summary>
internal sealed class IngestProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private IngestProcess(Process process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything it printed (JSON log lines), in order.</summary>
    public IReadOnlyList<string> Lines => [.. _output];

    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the service on <paramref name="root"/> and waits until /health/ready answers 200.</summary>
    public static async Task<IngestProcess> StartAsync(string root, string redis, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort.Next();
        var process = Process.Start(StartInfo(root, redis, port, settings)) ?? throw new InvalidOperationException("dotnet did not start");
        var ingest = new IngestProcess(process, port);
        process.OutputDataReceived += (_, e) => ingest.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => ingest.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = ingest.NewClient(TimeSpan.FromSeconds(2));
        await Eventually.UntilAsync(
            async () => process.HasExited
                ? throw new Xunit.Sdk.XunitException($"IngestService exited with code {process.ExitCode} before it was ready:\n{ingest.Output}")
                : (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode,
            TimeSpan.FromSeconds(90),
            "IngestService answers /health/ready");
        return ingest;
    }

    /// <summary>A client of its own (its own connections), as a new caller would be.</summary>
    public HttpClient NewClient(TimeSpan? timeout = null) => new() { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(60) };

    /// <summary>SIGTERM, as an orchestrator stops a service.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>kill -9: no shutdown, no flush, no finally blocks; whatever was half done stays half done.</summary>
    public async Task KillAsync()
    {
        using var kill = Process.Start("kill", ["-KILL", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code; fails the test past <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"IngestService did not exit within {timeout.TotalSeconds:F0} s:\n{Output}");
        }

        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    /// <summary>Index of the first line that contains <paramref name="text"/>, or -1.</summary>
    public int LineOf(string text) => Lines.ToList().FindIndex(l => l.Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static ProcessStartInfo StartInfo(string root, string redis, int port, IReadOnlyDictionary<string, string>? settings)
    {
        // The binary of the same configuration as this test build (artifacts/bin/IngestService.Tests/<config>/); the
        // project reference builds it.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var dll = Path.Combine(RepoPaths.RepoRoot, "artifacts", "bin", "IngestService", configuration, "IngestService.dll");
        Assert.True(File.Exists(dll), $"IngestService binary not built: {dll}");

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        info.Environment["Storage__Root"] = root;
        info.Environment["ConnectionStrings__redis"] = redis;
        info.Environment["Scanner__Enabled"] = "false";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
