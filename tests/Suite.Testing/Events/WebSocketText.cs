using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Suite.Testing.Events;

/// <summary>WebSocket client helpers: connect (optionally with a small receive buffer) and read whole text messages.</summary>
public static class WebSocketText
{
    /// <summary>
    /// Connects with the given headers; with <paramref name="receiveBufferBytes"/> the socket's kernel receive buffer is
    /// that small (a client that stops reading then fills up fast).
    /// </summary>
    public static async Task<ClientWebSocket> ConnectAsync(
        Uri uri, IReadOnlyDictionary<string, string>? headers = null, int? receiveBufferBytes = null, CancellationToken cancellationToken = default,
        IReadOnlyList<string>? subProtocols = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var socket = new ClientWebSocket();
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            socket.Options.SetRequestHeader(name, value);
        }

        foreach (var protocol in subProtocols ?? [])
        {
            socket.Options.AddSubProtocol(protocol);
        }

        // Pings are the server's; the client answers them while it reads.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        using var handler = Handler(receiveBufferBytes);
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        try
        {
            await socket.ConnectAsync(uri, invoker, cancellationToken);
        }
        catch (WebSocketException ex)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new WebSocketRefusedException(status, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    /// <summary>A handler whose connections get a kernel receive buffer of <paramref name="receiveBufferBytes"/> (when set).</summary>
    public static SocketsHttpHandler Handler(int? receiveBufferBytes = null) => new()
    {
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, token) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            if (receiveBufferBytes is { } size)
            {
                socket.ReceiveBufferSize = size;
            }

            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>The next whole text message, or null when the server closed (see the socket's CloseStatus).</summary>
    public static async Task<string?> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                }

                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    /// <summary>The subprotocols a browser offers to authenticate at the gateway: <c>suite-events</c> and the key as <c>suite-key.&lt;base64url&gt;</c>.</summary>
    public static IReadOnlyList<string> BrowserKeyProtocols(string apiKey) =>
        ["suite-events", "suite-key." + Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey)).TrimEnd('=').Replace('+', '-').Replace('/', '_')];

    /// <summary>http(s) → ws(s) for the same authority.</summary>
    public static Uri ToWebSocket(Uri http) => new UriBuilder(http) { Scheme = http.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
}

/// <summary>The server answered the upgrade request with <see cref="Status"/> instead of 101 (0 when it did not answer).</summary>
public sealed class WebSocketRefusedException : Exception
{
    public WebSocketRefusedException(HttpStatusCode status, Exception inner)
        : base($"The WebSocket upgrade was answered {(int)status}: {inner?.Message}", inner)
    {
        Status = status;
    }

    public WebSocketRefusedException()
    {
    }

    public WebSocketRefusedException(string message)
        : base(message)
    {
    }

    public WebSocketRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public HttpStatusCode Status { get; }
}
