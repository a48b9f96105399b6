namespace IngestService.Events;

/// <summary>The transport one stream writes to: Server-Sent Events or a WebSocket.</summary>
internal interface IEventSink
{
    /// <summary><c>sse</c> or <c>websocket</c> (metric attribute).</summary>
    string Protocol { get; }

    /// <summary>Whether the stream writes its own heartbeats (SSE comments); a WebSocket pings at the protocol level.</summary>
    bool WritesHeartbeats { get; }

    /// <summary>Why a stream ends whose request was aborted (the connection broke): an SSE client leaving does just that; a WebSocket client closes first.</summary>
    string AbortReason { get; }

    /// <summary>Completes when the client went away (closed, or found dead), with the close reason; never faults.</summary>
    Task<string> PeerGone { get; }

    /// <summary>Writes one event; <paramref name="id"/> is the resume position (the sequence number, or the global position in a client feed).</summary>
    Task WriteEventAsync(StoredEvent e, long id, CancellationToken cancellationToken);

    Task WriteHeartbeatAsync(CancellationToken cancellationToken);

    /// <summary>The last message after a terminal event: the document's final status.</summary>
    Task WriteEndAsync(string status, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the stream for <paramref name="reason"/> (one of <see cref="StreamCloseReasons"/>), telling the client where it
    /// stands (<paramref name="lastDelivered"/>) where the protocol can; bounded by <paramref name="cancellationToken"/>.
    /// </summary>
    Task CloseAsync(string reason, long lastDelivered, CancellationToken cancellationToken);

    /// <summary>Breaks the connection without a goodbye (a close could not get through).</summary>
    void Abort();
}
