using System.Net;
using System.Net.Sockets;
using Suite.Testing;

namespace LabelingBridge.Tests.Infrastructure;

/// <summary>
/// A TCP proxy between the bridge and the emulator that injects network faults the emulator cannot: Down (the port
/// refuses connections and open ones are cut: Label Studio's host is gone) and BlackHole (connections are accepted,
/// bytes swallowed, nothing ever answered).
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private Socket? _placeholder;
    private volatile bool _blackHole;
    private int _accepted;

    private FaultProxy(int port, IPEndPoint target)
    {
        Port = port;
        _target = target;
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public int Accepted => Volatile.Read(ref _accepted);

    public bool IsDown => _listener is null;

    public static FaultProxy Start(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var proxy = new FaultProxy(FreePort.Next(), new IPEndPoint(IPAddress.Loopback, target.Port));
        proxy.Up();
        return proxy;
    }

    /// <summary>Every new connection is swallowed (accepted, read, never answered), or normal again.</summary>
    public bool BlackHole { get => _blackHole; set => _blackHole = value; }

    /// <summary>
    /// Stops listening (connections are refused) and cuts every open connection. The port stays bound, without
    /// listening, so that no other server started meanwhile can take it and answer in Label Studio's place.
    /// </summary>
    public void Down()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                _listener.Stop();
                _listener = null;
                _placeholder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _placeholder.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                _placeholder.Bind(new IPEndPoint(IPAddress.Loopback, Port));
            }

            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
        }
    }

    public void Up()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            _placeholder?.Dispose();
            _placeholder = null;
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _ = AcceptLoopAsync(listener);
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            lock (_gate)
            {
                if (!ReferenceEquals(_listener, listener))
                {
                    // Accepted just as the proxy went down: it must not live on as a pooled connection.
                    client.Dispose();
                    return;
                }

                _open.Add(client);
            }

            _ = _blackHole ? SwallowAsync(client) : ForwardAsync(client);
        }
    }

    private async Task SwallowAsync(TcpClient client)
    {
        var buffer = new byte[8192];
        try
        {
            var stream = client.GetStream();
            while (await stream.ReadAsync(buffer, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
        finally
        {
            Forget(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
            var down = client.GetStream();
            var up = upstream.GetStream();
            var a = down.CopyToAsync(up, _stop.Token);
            var b = up.CopyToAsync(down, _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
        }
        finally
        {
            Forget(client);
        }
    }

    private void Forget(TcpClient client)
    {
        lock (_gate)
        {
            _open.Remove(client);
        }

        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Down();
        _placeholder?.Dispose();
        _stop.Dispose();
    }
}
