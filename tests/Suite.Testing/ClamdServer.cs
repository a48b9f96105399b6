using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Suite.Testing;

/// <summary>
/// A real clamd (Debian's clamav-daemon) on a free loopback port, in its own temp folder, loading only the signatures the
/// AppHost ships (AppHost/ClamAv/suite-test.ndb: the EICAR test signature). Started with a bounded wait for PONG; can be
/// killed (SIGKILL) and started again on the same port.
/// </summary>
public sealed class ClamdServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private ClamdServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>As the AppHost gives it to ingest (<c>ConnectionStrings:clamav</c>).</summary>
    public string ConnectionString => $"tcp://127.0.0.1:{Port}";

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>The signature name clamd reports for the EICAR test file.</summary>
    public const string EicarSignature = "Suite.Test.EICAR.UNOFFICIAL";

    /// <summary>
    /// The 68-byte EICAR anti-virus test file, put together at run time from two halves so that no source or binary of
    /// the repository is itself a sample.
    /// </summary>
    public static byte[] Eicar() =>
        Encoding.ASCII.GetBytes(@"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + string.Concat("EICAR-STANDARD-", "ANTIVIRUS-TEST-FILE!$H+H*"));

    /// <summary>Starts clamd on <paramref name="port"/> (default: a free one), taking streams up to <paramref name="streamMaxBytes"/>.</summary>
    public static async Task<ClamdServer> StartAsync(long streamMaxBytes = 64L * 1024 * 1024, int? port = null)
    {
        var directory = Directory.CreateTempSubdirectory("suite-clamd-").FullName;
        var databases = Directory.CreateDirectory(Path.Combine(directory, "db")).FullName;
        File.Copy(Path.Combine(RepoPaths.RepoRoot, "AppHost", "ClamAv", "suite-test.ndb"), Path.Combine(databases, "suite-test.ndb"));
        var server = new ClamdServer(port ?? FreePort.Next(), directory);
        var limit = streamMaxBytes.ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(server.ConfigFile, string.Join('\n',
            "Foreground yes",
            "TCPAddr 127.0.0.1",
            $"TCPSocket {server.Port.ToString(CultureInfo.InvariantCulture)}",
            $"DatabaseDirectory {databases}",
            $"StreamMaxLength {limit}",
            $"MaxFileSize {limit}",
            $"TemporaryDirectory {directory}",
            ""));
        await server.StartProcessAsync();
        return server;
    }

    private string ConfigFile => Path.Combine(_directory, "clamd.conf");

    public async Task StartProcessAsync()
    {
        var clamd = File.Exists("/usr/sbin/clamd") ? "/usr/sbin/clamd" : "clamd";
        var psi = new ProcessStartInfo(clamd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        psi.ArgumentList.Add("--config-file=" + ConfigFile);
        try
        {
            _process = Process.Start(psi) ?? throw new InvalidOperationException("clamd did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("clamd is not installed. Install it: apt-get install -y clamav-daemon (or bash .ci/prereqs)", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.UntilAsync(async () => _process.HasExited
                ? throw new InvalidOperationException($"clamd exited with code {_process.ExitCode} at start")
                : await PingAsync(), TimeSpan.FromSeconds(30), "clamd answers PONG", TimeSpan.FromMilliseconds(100));
    }

    /// <summary>True when clamd answers zPING with PONG within a second.</summary>
    public async Task<bool> PingAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("zPING\0"u8.ToArray(), timeout.Token);
        var buffer = new byte[16];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read).TrimEnd('\0') == "PONG";
    }

    /// <summary>SIGKILL: clamd is gone at once, its port refuses connections.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
