using System.Net;
using System.Net.Sockets;

namespace Suite.Testing.Events;

/// <summary>
/// A loopback TCP proxy in front of a server that can make its clients vanish without closing: after
/// <see cref="Stall"/> it forwards nothing in either direction and keeps every socket open (no FIN, no RST), as a
/// client whose network went away looks to the server. <see cref="UpstreamClosed"/> completes when the server side of a
/// connection closes (the server noticed and cleaned up).
/// </summary>
public sealed class StallingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly TaskCompletionSource<DateTimeOffset> _upstreamClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stalled;

    private StallingProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>When the server closed its side of a proxied connection.</summary>
    public Task<DateTimeOffset> UpstreamClosed => _upstreamClosed.Task;

    public static StallingProxy Start(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var address = Dns.GetHostAddresses(target.Host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new StallingProxy(new IPEndPoint(address, target.Port));
    }

    /// <summary>From now on nothing passes in either direction; the sockets stay open.</summary>
    public void Stall() => _stalled = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(upstream);
            }

            try
            {
                await upstream.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Dispose();
                continue;
            }

            _ = Task.Run(() => PumpAsync(client, upstream, fromServer: false));
            _ = Task.Run(() => PumpAsync(upstream, client, fromServer: true));
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromServer)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    if (fromServer)
                    {
                        _upstreamClosed.TrySetResult(DateTimeOffset.UtcNow);
                    }

                    if (!_stalled)
                    {
                        to.Shutdown(SocketShutdown.Send);
                    }

                    return;
                }

                if (!_stalled)
                {
                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (fromServer && !_stop.IsCancellationRequested)
            {
                _upstreamClosed.TrySetResult(DateTimeOffset.UtcNow);
            }
        }
    }
}
