using System.Globalization;
using System.Net.WebSockets;
using Suite.Contracts;

namespace IngestService.Events;

/// <summary>
/// A WebSocket: one text message (the event JSON) per event, <c>{"type":"end","status":"…"}</c> then a normal close at
/// the end. Heartbeats are the protocol's Ping frames (Events:HeartbeatSeconds), answered by every client's WebSocket
/// implementation; no Pong within Events:HeartbeatTimeoutSeconds aborts the socket, which ends the receive loop
/// (<see cref="PeerGone"/>: dead_peer). Messages from the client are read and ignored, so its close frame is seen.
/// </summary>
internal sealed class WebSocketSink : IEventSink
{
    private readonly WebSocket _socket;
    private readonly TimeSpan _closeTimeout;
    private readonly TaskCompletionSource<string> _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closeSent;

    private WebSocketSink(WebSocket socket, TimeSpan closeTimeout)
    {
        _socket = socket;
        _closeTimeout = closeTimeout;
    }

    /// <summary>The subprotocol selected when offered: the event JSON messages of docs/events.md.</summary>
    public const string EventsProtocol = "suite-events";

    public string Protocol => "websocket";

    public bool WritesHeartbeats => false;

    public string AbortReason => StreamCloseReasons.DeadPeer;

    public Task<string> PeerGone => _gone.Task;

    /// <summary>Accepts the upgrade with the heartbeat settings and starts reading what the client sends.</summary>
    public static async Task<WebSocketSink> AcceptAsync(HttpContext http, EventOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // A browser offers it (beside its key, which the gateway removed): a subprotocol offered must be selected.
            SubProtocol = http.WebSockets.WebSocketRequestedProtocols.Contains(EventsProtocol) ? EventsProtocol : null,
            KeepAliveInterval = options.Heartbeat,
            KeepAliveTimeout = options.HeartbeatTimeout,
        });
        var sink = new WebSocketSink(socket, options.CloseTimeout);
        _ = Task.Run(sink.ReceiveAsync);
        return sink;
    }

    public Task WriteEventAsync(StoredEvent e, long id, CancellationToken cancellationToken) =>
        _socket.SendAsync(EventJson.Event(e), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public Task WriteHeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task WriteEndAsync(string status, CancellationToken cancellationToken) =>
        _socket.SendAsync(EventJson.End(status, withType: true), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public async Task CloseAsync(string reason, long lastDelivered, CancellationToken cancellationToken)
    {
        var (status, text) = reason switch
        {
            StreamCloseReasons.End => (EventCloseCodes.Normal, "end"),
            StreamCloseReasons.SlowConsumer => (EventCloseCodes.SlowConsumer, Describe("slow_consumer", lastDelivered)),
            StreamCloseReasons.Shutdown => (EventCloseCodes.ServiceRestart, Describe("service_restart", lastDelivered)),
            StreamCloseReasons.ClientClosed => (EventCloseCodes.Normal, "closed by the client"),
            _ => (EventCloseCodes.ServerError, Describe("server_error", lastDelivered)),
        };

        if (reason == StreamCloseReasons.DeadPeer || _socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            Abort();
            return;
        }

        try
        {
            if (Interlocked.Exchange(ref _closeSent, 1) == 0)
            {
                await _socket.CloseOutputAsync((WebSocketCloseStatus)status, text, cancellationToken);
            }

            // The client answers with its close frame (seen by the receive loop); a client that does not is cut off.
            await _gone.Task.WaitAsync(_closeTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or WebSocketException or ObjectDisposedException)
        {
            Abort();
        }
    }

    public void Abort()
    {
        _socket.Abort();
        _gone.TrySetResult(StreamCloseReasons.DeadPeer);
    }

    /// <summary>A close reason (at most 123 bytes) that names the last sequence number delivered, to resume from.</summary>
    private static string Describe(string what, long lastDelivered) =>
        string.Create(CultureInfo.InvariantCulture, $"{what}; last seq {lastDelivered}; reconnect with ?after={lastDelivered}");

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var message = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (message.MessageType == WebSocketMessageType.Close)
                {
                    _gone.TrySetResult(StreamCloseReasons.ClientClosed);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Aborted: no Pong within the heartbeat timeout, the connection broke, or the server aborted it.
            _gone.TrySetResult(StreamCloseReasons.DeadPeer);
        }
    }
}
