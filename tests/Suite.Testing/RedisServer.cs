using System.Diagnostics;
using StackExchange.Redis;

namespace Suite.Testing;

/// <summary>
/// A real redis-server process on a free loopback port, in its own temp folder, for tests that need Redis
/// without the whole suite. Can be killed (SIGKILL) and restarted on the same port and data.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dataDir;
    private readonly bool _appendOnly;
    private Process? _process;

    private RedisServer(int port, string dataDir, bool appendOnly)
    {
        Port = port;
        _dataDir = dataDir;
        _appendOnly = appendOnly;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static async Task<RedisServer> StartAsync(bool appendOnly = true)
    {
        var dir = Directory.CreateTempSubdirectory("suite-redis-").FullName;
        var server = new RedisServer(FreePort.Next(), dir, appendOnly);
        await server.StartProcessAsync();
        return server;
    }

    public async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _dataDir,
        };
        foreach (var arg in new[]
                 {
                     "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--dir", _dataDir, "--save", "", "--appendonly", _appendOnly ? "yes" : "no",
                     "--appendfsync", "everysec", "--maxmemory-policy", "noeviction",
                 })
        {
            psi.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not on PATH. Install it: apt-get install -y redis-server", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.UntilAsync(async () =>
        {
            await using var mux = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",abortConnect=false,connectTimeout=500");
            return mux.IsConnected && (await mux.GetDatabase().PingAsync()) >= TimeSpan.Zero;
        }, TimeSpan.FromSeconds(15), "redis-server answers PING");
    }

    /// <summary>SIGKILL, as a crash: no shutdown save.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    public async Task RestartAsync()
    {
        Kill();
        await StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
