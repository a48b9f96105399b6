using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Xunit;

namespace Suite.Testing.Events;

/// <summary>
/// One event as a test client received it: its resume id (the SSE id; the seq over WebSocket), its fields, the raw
/// JSON and when it arrived.
/// </summary>
public sealed record ReceivedEvent(long Id, long Seq, string DocumentId, string Type, DateTimeOffset At, string Json, DateTimeOffset ReceivedAt)
{
    public JsonElement Element => JsonDocument.Parse(Json).RootElement;

    /// <summary>From the event's time (the server's clock, same machine) to its arrival.</summary>
    public TimeSpan Latency => ReceivedAt - At;

    public static ReceivedEvent Parse(string json, long? id = null)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var seq = root.GetProperty("seq").GetInt64();
        return new ReceivedEvent(
            id ?? seq,
            seq,
            root.GetProperty("documentId").GetString()!,
            root.GetProperty("type").GetString()!,
            DateTimeOffset.Parse(root.GetProperty("at").GetString()!, CultureInfo.InvariantCulture),
            json,
            DateTimeOffset.UtcNow);
    }
}

/// <summary>
/// A client following an event stream in the background, as the browser viewer would: it records every event, the
/// end message, heartbeats and how the connection ended. Create with <see cref="Sse"/> or <see cref="WebSocket"/>.
/// </summary>
public sealed class EventFollower : IAsyncDisposable
{
    private readonly List<ReceivedEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstByte = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _run = Task.CompletedTask;
    private int _heartbeats;

    private EventFollower(long after)
    {
        After = after;
    }

    /// <summary>The position it started after.</summary>
    public long After { get; }

    public IReadOnlyList<ReceivedEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The id of the last event received (or the start position).</summary>
    public long LastId
    {
        get
        {
            lock (_events)
            {
                return _events.Count == 0 ? After : _events[^1].Id;
            }
        }
    }

    /// <summary>The final status of the <c>end</c> message, once received.</summary>
    public string? EndStatus { get; private set; }

    /// <summary>SSE heartbeat comments (<c>: ping</c>) received.</summary>
    public int Heartbeats => Volatile.Read(ref _heartbeats);

    /// <summary>Other SSE comments (a reason the server gave before closing).</summary>
    public List<string> Comments { get; } = [];

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    /// <summary>Why the connection broke, when it did not end cleanly.</summary>
    public Exception? Error { get; private set; }

    /// <summary>The HTTP status of the answer (SSE) or of a refused upgrade (WebSocket).</summary>
    public int? HttpStatus { get; private set; }

    /// <summary>Completes when the stream ended: end message, close, error, or <see cref="DisposeAsync"/>.</summary>
    public Task Finished => _run;

    /// <summary>Completes when the stream answered (headers or the upgrade), or ended.</summary>
    public Task Connected => _firstByte.Task;

    /// <summary>
    /// Follows SSE at <paramref name="path"/> with the client's headers; <paramref name="lastEventId"/> is sent as
    /// Last-Event-ID. With <paramref name="readBody"/> false it takes the headers and then never reads (a stalled client).
    /// </summary>
    public static EventFollower Sse(HttpClient client, string path, long? lastEventId = null, bool readBody = true)
    {
        ArgumentNullException.ThrowIfNull(client);
        var follower = new EventFollower(lastEventId ?? AfterIn(path));
        follower._run = Task.Run(() => follower.RunSseAsync(client, path, lastEventId, readBody));
        return follower;
    }

    /// <summary>Follows a WebSocket at <paramref name="uri"/> (ws://); with <paramref name="read"/> false it connects and never reads.</summary>
    public static EventFollower WebSocket(
        Uri uri, IReadOnlyDictionary<string, string>? headers = null, int? receiveBufferBytes = null, bool read = true, IReadOnlyList<string>? subProtocols = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var follower = new EventFollower(AfterIn(uri.Query));
        follower._run = Task.Run(() => follower.RunWebSocketAsync(uri, headers, receiveBufferBytes, read, subProtocols));
        return follower;
    }

    /// <summary>The subprotocol the server selected (WebSocket).</summary>
    public string? SubProtocol { get; private set; }

    /// <summary>Waits until at least <paramref name="count"/> events arrived (bounded).</summary>
    public Task WaitForEventsAsync(int count, TimeSpan timeout) =>
        Eventually.UntilAsync(() =>
        {
            if (Events.Count >= count)
            {
                return true;
            }

            Assert.False(_run.IsCompleted, $"the stream ended before {count} events arrived: {Describe()}");
            return false;
        }, timeout, $"{count} events arrived ({Describe()})", TimeSpan.FromMilliseconds(20));

    /// <summary>Waits until the stream ended (bounded) and says how.</summary>
    public async Task WaitFinishedAsync(TimeSpan timeout)
    {
        try
        {
            await _run.WaitAsync(timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The stream did not end within {timeout.TotalSeconds:F0} s: {Describe()}", ex);
        }
    }

    /// <summary>A stalled follower starts reading what is waiting for it (after <see cref="WebSocket"/> with read: false).</summary>
    public Action? Resume { get; private set; }

    public string Describe() =>
        $"{Events.Count} events (last id {LastId}), end {EndStatus ?? "-"}, http {HttpStatus}, close {CloseStatus} '{CloseDescription}', " +
        $"comments [{string.Join(" | ", Comments)}], error {Error?.GetType().Name}: {Error?.Message}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
        }

        _stop.Dispose();
    }

    private static long AfterIn(string pathOrQuery)
    {
        var query = pathOrQuery.Contains('?', StringComparison.Ordinal) ? pathOrQuery[(pathOrQuery.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts[0] == "after" && parts.Length == 2 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var after))
            {
                return after;
            }
        }

        return 0;
    }

    private void Add(ReceivedEvent e)
    {
        lock (_events)
        {
            _events.Add(e);
        }
    }

    private async Task RunSseAsync(HttpClient client, string path, long? lastEventId, bool readBody)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (lastEventId is { } id)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
            HttpStatus = (int)response.StatusCode;
            _firstByte.TrySetResult();
            if (!response.IsSuccessStatusCode)
            {
                Comments.Add(await response.Content.ReadAsStringAsync(_stop.Token));
                return;
            }

            await using var body = await response.Content.ReadAsStreamAsync(_stop.Token);
            if (!readBody)
            {
                var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Resume = () => resume.TrySetResult();
                await resume.Task.WaitAsync(_stop.Token);
            }

            await foreach (var frame in SseFrames.ReadAsync(body, _stop.Token))
            {
                if (frame.IsComment)
                {
                    if (frame.Comment == "ping")
                    {
                        Interlocked.Increment(ref _heartbeats);
                    }
                    else
                    {
                        lock (Comments)
                        {
                            Comments.Add(frame.Comment!);
                        }
                    }
                }
                else if (frame.Event == "end")
                {
                    using var end = JsonDocument.Parse(frame.Data!);
                    EndStatus = end.RootElement.GetProperty("status").GetString();
                }
                else
                {
                    Add(ReceivedEvent.Parse(frame.Data!, long.Parse(frame.Id!, CultureInfo.InvariantCulture)));
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            Error = ex;
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _firstByte.TrySetResult();
        }
    }

    private async Task RunWebSocketAsync(Uri uri, IReadOnlyDictionary<string, string>? headers, int? receiveBufferBytes, bool read, IReadOnlyList<string>? subProtocols)
    {
        ClientWebSocket? socket = null;
        try
        {
            socket = await WebSocketText.ConnectAsync(uri, headers, receiveBufferBytes, _stop.Token, subProtocols);
            HttpStatus = 101;
            SubProtocol = socket.SubProtocol;
            _firstByte.TrySetResult();
            if (!read)
            {
                var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Resume = () => resume.TrySetResult();
                await resume.Task.WaitAsync(_stop.Token);
            }

            while (await WebSocketText.ReceiveAsync(socket, _stop.Token) is { } message)
            {
                using var json = JsonDocument.Parse(message);
                if (json.RootElement.GetProperty("type").GetString() == "end" && !json.RootElement.TryGetProperty("seq", out _))
                {
                    EndStatus = json.RootElement.GetProperty("status").GetString();
                }
                else
                {
                    Add(ReceivedEvent.Parse(message));
                }
            }

            CloseStatus = socket.CloseStatus;
            CloseDescription = socket.CloseStatusDescription;
        }
        catch (WebSocketRefusedException ex)
        {
            HttpStatus = (int)ex.Status;
            Error = ex;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            Error = ex;
            CloseStatus = socket?.CloseStatus;
            CloseDescription = socket?.CloseStatusDescription;
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _firstByte.TrySetResult();
            socket?.Abort();
            socket?.Dispose();
        }
    }
}

/// <summary>A client that follows a stream to its end across disconnections, resuming each time from the last id it got.</summary>
public static class ResumingFollower
{
    /// <summary>
    /// Connects with <paramref name="connect"/>(last id) again and again (pausing <paramref name="retryDelay"/> after a
    /// connection that brought nothing) until an <c>end</c> arrives; returns every event received and the connections made.
    /// </summary>
    public static async Task<(IReadOnlyList<ReceivedEvent> Events, string EndStatus, int Connections, IReadOnlyList<string> Closes)> FollowToEndAsync(
        Func<long, EventFollower> connect, long after, TimeSpan timeout, TimeSpan? retryDelay = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        var clock = Stopwatch.StartNew();
        var events = new List<ReceivedEvent>();
        var closes = new List<string>();
        var connections = 0;
        while (clock.Elapsed < timeout)
        {
            await using var follower = connect(after);
            connections++;
            await follower.Finished.WaitAsync(timeout - clock.Elapsed > TimeSpan.Zero ? timeout - clock.Elapsed : TimeSpan.FromMilliseconds(1))
                .ContinueWith(_ => { }, TaskScheduler.Default);
            events.AddRange(follower.Events);
            after = follower.LastId;
            closes.Add(follower.Describe());
            if (follower.EndStatus is { } status)
            {
                return (events, status, connections, closes);
            }

            if (follower.Events.Count == 0)
            {
                await Task.Delay(retryDelay ?? TimeSpan.FromMilliseconds(250));
            }
        }

        throw new TimeoutException($"No end within {timeout.TotalSeconds:F0} s after {connections} connections, {events.Count} events:\n{string.Join("\n", closes.TakeLast(5))}");
    }
}
