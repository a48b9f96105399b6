using System.Net.Sockets;
using System.Text;

namespace Suite.AppHost.Processes;

internal readonly record struct HealthResult(bool Healthy, string Detail);

internal interface IHealthProbe
{
    Task<HealthResult> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>GET /health/ready: 200 is healthy (Degraded answers 200 too), anything else is not.</summary>
internal sealed class HttpReadinessProbe(Uri baseUrl, HttpClient client) : IHealthProbe
{
    public const string Path = "/health/ready";

    private readonly Uri _url = new(baseUrl, Path);

    public async Task<HealthResult> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return new HealthResult(response.StatusCode == System.Net.HttpStatusCode.OK, $"GET {Path} {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            return new HealthResult(false, $"GET {Path}: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthResult(false, $"GET {Path}: no answer within {client.Timeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>One client for every probe: short timeouts, no proxy, fresh connections after restarts.</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };
}

/// <summary>Redis PING over RESP; "+PONG" is healthy (a server still loading its AOF answers -LOADING).</summary>
internal sealed class RedisPingProbe(int port) : IHealthProbe
{
    private static readonly byte[] Ping = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n");

    public async Task<HealthResult> CheckAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Ping, timeout.Token);
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            var answer = Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
            return new HealthResult(answer == "+PONG", "PING " + answer);
        }
        catch (SocketException ex)
        {
            return new HealthResult(false, "PING: " + ex.Message);
        }
        catch (IOException ex)
        {
            return new HealthResult(false, "PING: " + ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthResult(false, "PING: no answer within 2 s");
        }
    }
}
