using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace IngestService.Events;

/// <summary>What a stream follows: one document (resume position = sequence number) or every document of a client (global position).</summary>
internal sealed record StreamFeed(string? DocumentId, string? Client)
{
    public static StreamFeed Document(string id) => new(id, null);

    public static StreamFeed OfClient(string client) => new(null, client);

    public bool IsDocument => DocumentId is not null;

    public string Name => IsDocument ? "document" : "client";

    public string Key => IsDocument ? EventSignals.DocumentKey(DocumentId!) : EventSignals.ClientKey(Client!);
}

/// <summary>
/// One client's stream: a producer reads the feed's events from the catalog after the client's position (woken by the
/// pump, polling otherwise) into a buffer of at most <c>Events:BufferEvents</c>; a writer sends them to the client.
/// A client is dropped as a slow consumer when its buffer stays full for <c>Events:SlowClientGraceMs</c> (it takes no
/// event meanwhile) or one write blocks past <c>Events:SendTimeoutSeconds</c>; what the buffer held is discarded, so
/// the last position written is exactly where it resumes. Nothing a stream does waits on another stream. The end: a
/// document stream whose document is terminal, with every event up to its last written, sends <c>end</c> and closes;
/// a client feed never ends by itself. On shutdown every stream closes with a status telling the client to reconnect.
/// </summary>
internal sealed partial class EventStream(
    EventCatalog catalog, EventSignals signals, EventMetrics metrics, IOptions<EventOptions> options, IHostApplicationLifetime lifetime,
    TimeProvider time, ILogger<EventStream> logger)
{
    private readonly EventOptions _options = options.Value;

    /// <summary>Runs the stream until it ends; <paramref name="after"/> is the client's position (0: from the start).</summary>
    public async Task RunAsync(IEventSink sink, StreamFeed feed, long after, CancellationToken requestAborted)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(feed);
        metrics.Opened(sink.Protocol, feed.Name);
        var run = new Run(sink, feed, after, requestAborted, lifetime.ApplicationStopping, _options, dropped => metrics.Dropped(sink.Protocol, dropped));
        var reason = StreamCloseReasons.Error;
        try
        {
            // The live boundary (for the lag metric): events after it were written while the client was connected.
            run.LiveAfter = feed.IsDocument
                ? (await catalog.HeadAsync(feed.DocumentId!, run.Stopping))?.LastSeq ?? 0
                : await catalog.ClientHeadAsync(feed.Client!, run.Stopping);
            var producer = Task.Run(() => ProduceAsync(run));
            reason = await WriteAsync(run);
            await producer;
        }
        catch (OperationCanceledException) when (run.Reason is not null)
        {
            reason = run.Reason;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(feed.DocumentId ?? feed.Client!, sink.Protocol, ex);
            run.Stop(StreamCloseReasons.Error);
            reason = StreamCloseReasons.Error;
            using var closing = new CancellationTokenSource(_options.CloseTimeout);
            await sink.CloseAsync(reason, run.LastDelivered, closing.Token);
        }
        finally
        {
            run.Dispose();
            metrics.Closed(sink.Protocol, feed.Name, reason);
            LogClosed(feed.DocumentId ?? feed.Client!, sink.Protocol, reason, run.LastDelivered);
        }
    }

    /// <summary>Reads the catalog into the buffer until the end (document terminal) or a stop.</summary>
    private async Task ProduceAsync(Run run)
    {
        var signal = new WakeSignal();
        using var subscription = signals.Subscribe(run.Feed.Key, signal);
        var position = run.After;
        try
        {
            while (!run.Stopping.IsCancellationRequested)
            {
                signal.Reset();
                var head = run.Feed.IsDocument ? await catalog.HeadAsync(run.Feed.DocumentId!, run.Stopping) : null;
                var events = run.Feed.IsDocument
                    ? await catalog.DocumentAfterAsync(run.Feed.DocumentId!, position, _options.ReadBatchSize, run.Stopping)
                    : await catalog.ClientAfterAsync(run.Feed.Client!, position, _options.ReadBatchSize, run.Stopping);
                foreach (var e in events)
                {
                    if (!await OfferAsync(run, Frame.Of(e)))
                    {
                        return;
                    }

                    position = run.Feed.IsDocument ? e.Seq : e.Position;
                }

                if (events.Count == _options.ReadBatchSize)
                {
                    continue;
                }

                // Removed while followed (retention or DELETE): its events are gone with it, so the stream ends here.
                if (run.Feed.IsDocument && head is null && events.Count == 0)
                {
                    await OfferAsync(run, Frame.EndOf("removed"));
                    run.Buffer.Writer.TryComplete();
                    return;
                }

                if (head is { IsTerminal: true } && position >= head.LastSeq)
                {
                    await OfferAsync(run, Frame.EndOf(head.Status));
                    run.Buffer.Writer.TryComplete();
                    return;
                }

                await signal.WaitAsync(_options.PollInterval, run.Stopping);
            }
        }
        catch (OperationCanceledException) when (run.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The catalog could not be read (unavailable, corrupt): the client is told to come back.
            LogFailed(run.Feed.DocumentId ?? run.Feed.Client!, run.Sink.Protocol, ex);
            run.Stop(StreamCloseReasons.Error);
        }
        finally
        {
            run.Buffer.Writer.TryComplete();
        }
    }

    /// <summary>Puts a frame in the buffer, waiting for room at most the grace; false (and the client dropped) when it stayed full.</summary>
    private async Task<bool> OfferAsync(Run run, Frame frame)
    {
        if (run.Buffer.Writer.TryWrite(frame))
        {
            return true;
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping);
        grace.CancelAfter(_options.SlowClientGrace);
        try
        {
            await run.Buffer.Writer.WriteAsync(frame, grace.Token);
            return true;
        }
        catch (OperationCanceledException) when (!run.Stopping.IsCancellationRequested)
        {
            LogSlow(run.Feed.DocumentId ?? run.Feed.Client!, run.Sink.Protocol, _options.BufferEvents, run.LastDelivered);
            run.Stop(StreamCloseReasons.SlowConsumer);
            return false;
        }
    }

    /// <summary>Writes buffered frames (and heartbeats when idle) until the end or a stop; then closes the stream.</summary>
    private async Task<string> WriteAsync(Run run)
    {
        var reader = run.Buffer.Reader;
        try
        {
            while (run.Reason is null)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(run.Stopping);
                idle.CancelAfter(_options.Heartbeat);
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!run.Stopping.IsCancellationRequested)
                {
                    if (run.Sink.WritesHeartbeats)
                    {
                        await SendAsync(run, run.Sink.WriteHeartbeatAsync);
                    }

                    continue;
                }

                if (!more)
                {
                    // The producer stopped without an end: a stop (its reason is set), or it failed.
                    break;
                }

                while (run.Reason is null && reader.TryRead(out var frame))
                {
                    if (frame.Event is { } e)
                    {
                        await SendAsync(run, ct => run.Sink.WriteEventAsync(e, run.Feed.IsDocument ? e.Seq : e.Position, ct));
                        run.LastDelivered = run.Feed.IsDocument ? e.Seq : e.Position;
                        var live = (run.Feed.IsDocument ? e.Seq : e.Position) > run.LiveAfter;
                        metrics.Delivered(run.Sink.Protocol, live && Catalog.CatalogTime.TryParse(e.At, out var at) ? (time.GetUtcNow() - at).TotalMilliseconds : null);
                    }
                    else
                    {
                        await SendAsync(run, ct => run.Sink.WriteEndAsync(frame.EndStatus!, ct));
                        // Before the client's answer to the close can arrive: the stream ended, it was not closed on it.
                        run.Stop(StreamCloseReasons.End);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (run.Reason is not null)
        {
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // The connection broke while writing.
            run.Stop(StreamCloseReasons.DeadPeer);
        }

        run.Stop(StreamCloseReasons.Error);
        var reason = run.Reason!;
        using var closing = new CancellationTokenSource(_options.CloseTimeout);
        await run.Sink.CloseAsync(reason, run.LastDelivered, closing.Token);
        return reason;
    }

    /// <summary>One write, bounded by the send timeout (a blocked write drops the client) and cut short once the stream stops.</summary>
    private async Task SendAsync(Run run, Func<CancellationToken, Task> write)
    {
        using var send = CancellationTokenSource.CreateLinkedTokenSource(run.WritesCancelled);
        send.CancelAfter(_options.SendTimeout);
        try
        {
            await write(send.Token);
        }
        catch (OperationCanceledException) when (!run.WritesCancelled.IsCancellationRequested)
        {
            LogSendTimeout(run.Feed.DocumentId ?? run.Feed.Client!, run.Sink.Protocol, _options.SendTimeoutSeconds, run.LastDelivered);
            run.Stop(StreamCloseReasons.SlowConsumer);
            run.Sink.Abort();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event stream {Feed} ({Protocol}) closed: {Reason}, last delivered {LastDelivered}")]
    private partial void LogClosed(string feed, string protocol, string reason, long lastDelivered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream {Feed} ({Protocol}) dropped as a slow consumer: its buffer of {Buffer} events stayed full; last delivered {LastDelivered}")]
    private partial void LogSlow(string feed, string protocol, int buffer, long lastDelivered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream {Feed} ({Protocol}) dropped as a slow consumer: a write blocked for {Seconds} s; last delivered {LastDelivered}")]
    private partial void LogSendTimeout(string feed, string protocol, int seconds, long lastDelivered);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event stream {Feed} ({Protocol}) failed")]
    private partial void LogFailed(string feed, string protocol, Exception exception);

    /// <summary>A buffered item: an event, or the end with the document's final status.</summary>
    private sealed record Frame(StoredEvent? Event, string? EndStatus)
    {
        public static Frame Of(StoredEvent e) => new(e, null);

        public static Frame EndOf(string status) => new(null, status);
    }

    /// <summary>
    /// The state of one stream. <see cref="Stop"/> (first reason wins; a drop is counted when decided) ends the producer
    /// and the writer's waits at once;
    /// a write in progress gets <c>Events:CloseTimeoutSeconds</c> to finish (so a close can follow it), or at once when
    /// the client is gone.
    /// </summary>
    private sealed class Run : IDisposable
    {
        private readonly CancellationTokenSource _stopping;
        private readonly CancellationTokenSource _writes = new();
        private readonly TimeSpan _closeTimeout;
        private readonly CancellationTokenRegistration _shutdown;
        private readonly CancellationTokenRegistration _aborted;
        private readonly Action<string> _dropped;
        private string? _reason;

        public Run(
            IEventSink sink, StreamFeed feed, long after, CancellationToken requestAborted, CancellationToken shutdown, EventOptions options, Action<string> dropped)
        {
            _dropped = dropped;
            Sink = sink;
            Feed = feed;
            After = after;
            LastDelivered = after;
            _closeTimeout = options.CloseTimeout;
            _stopping = new CancellationTokenSource();
            Buffer = Channel.CreateBounded<Frame>(new BoundedChannelOptions(options.BufferEvents)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            _shutdown = shutdown.Register(() => Stop(StreamCloseReasons.Shutdown));
            _aborted = requestAborted.Register(() => Stop(sink.AbortReason));
            _ = sink.PeerGone.ContinueWith(gone => Stop(gone.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public IEventSink Sink { get; }

        public StreamFeed Feed { get; }

        public long After { get; }

        public long LiveAfter { get; set; }

        public long LastDelivered { get; set; }

        public Channel<Frame> Buffer { get; }

        public string? Reason => Volatile.Read(ref _reason);

        public CancellationToken Stopping => _stopping.Token;

        public CancellationToken WritesCancelled => _writes.Token;

        public void Stop(string reason)
        {
            if (Interlocked.CompareExchange(ref _reason, reason, null) is not null)
            {
                return;
            }

            if (reason is StreamCloseReasons.SlowConsumer or StreamCloseReasons.DeadPeer)
            {
                _dropped(reason);
            }

            try
            {
                _stopping.Cancel();
                if (reason is StreamCloseReasons.ClientClosed or StreamCloseReasons.DeadPeer)
                {
                    _writes.Cancel();
                }
                else
                {
                    _writes.CancelAfter(_closeTimeout);
                }
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _shutdown.Dispose();
            _aborted.Dispose();
            _stopping.Dispose();
            _writes.Dispose();
        }
    }
}
