using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Suite.Contracts;

namespace IngestService.Events;

/// <summary>
/// Server-Sent Events (<c>text/event-stream</c>): <c>id: &lt;seq&gt;\nevent: &lt;type&gt;\ndata: &lt;json&gt;\n\n</c> per event,
/// <c>: ping\n\n</c> as heartbeat, <c>event: end\ndata: {"status":"…"}\n\n</c> at the end; a stream the server ends
/// early says why in a comment before it closes. Every write is flushed (no response buffering).
/// </summary>
internal sealed class SseSink : IEventSink
{
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes(": ping\n\n");
    private readonly HttpContext _http;
    private readonly TaskCompletionSource<string> _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SseSink(HttpContext http)
    {
        _http = http;
        http.RequestAborted.Register(() => _gone.TrySetResult(StreamCloseReasons.ClientClosed));
    }

    public string Protocol => "sse";

    public bool WritesHeartbeats => true;

    public string AbortReason => StreamCloseReasons.ClientClosed;

    public Task<string> PeerGone => _gone.Task;

    /// <summary>Sends the response headers (200, text/event-stream, no caching or transformation, no buffering).</summary>
    public static async Task<SseSink> StartAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache, no-transform";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        await http.Response.StartAsync(http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
        return new SseSink(http);
    }

    public async Task WriteEventAsync(StoredEvent e, long id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        var head = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id: {id}\nevent: {e.Type}\ndata: "));
        await WriteAsync(head, EventJson.Event(e), cancellationToken);
    }

    public Task WriteHeartbeatAsync(CancellationToken cancellationToken) => WriteAsync(Ping, [], cancellationToken, tail: false);

    public Task WriteEndAsync(string status, CancellationToken cancellationToken) =>
        WriteAsync(Encoding.UTF8.GetBytes($"event: {ProgressEventTypes.End}\ndata: "), EventJson.End(status, withType: false), cancellationToken);

    public async Task CloseAsync(string reason, long lastDelivered, CancellationToken cancellationToken)
    {
        var why = reason switch
        {
            StreamCloseReasons.SlowConsumer => "dropped: slow_consumer (the client did not keep up)",
            StreamCloseReasons.Shutdown => "closing: the service is restarting",
            StreamCloseReasons.Error => "closing: server error",
            _ => null,
        };

        if (why is null)
        {
            return;
        }

        var text = string.Create(CultureInfo.InvariantCulture, $": {why}; last id {lastDelivered}; reconnect with Last-Event-ID: {lastDelivered}\n\n");
        try
        {
            await WriteAsync(Encoding.UTF8.GetBytes(text), [], cancellationToken, tail: false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort();
        }
    }

    public void Abort() => _http.Abort();

    /// <summary>One event, heartbeat or comment in the response pipe, then one flush (one write to the socket).</summary>
    private async Task WriteAsync(byte[] head, byte[] data, CancellationToken cancellationToken, bool tail = true)
    {
        var pipe = _http.Response.BodyWriter;
        pipe.Write(head);
        pipe.Write(data);
        if (tail)
        {
            pipe.Write("\n\n"u8);
        }

        var flushed = await pipe.FlushAsync(cancellationToken);
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new OperationCanceledException("The event stream's response was cancelled or completed.");
        }
    }
}
