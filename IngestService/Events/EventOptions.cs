using System.ComponentModel.DataAnnotations;

namespace IngestService.Events;

/// <summary>Progress events and their streams (section <c>Events</c>; docs/events.md).</summary>
internal sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>
    /// How often an idle stream shows it is alive: an SSE comment (<c>: ping</c>), a WebSocket Ping frame. Keep it well
    /// below the gateway's ActivityTimeout (120 s) and any idle timeout between the client and the gateway.
    /// </summary>
    [Range(1, 300, ErrorMessage = "Events:HeartbeatSeconds must be from 1 to 300.")]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>How long a WebSocket client has to answer a Ping with a Pong before the connection counts as dead and is closed.</summary>
    [Range(1, 300, ErrorMessage = "Events:HeartbeatTimeoutSeconds must be from 1 to 300.")]
    public int HeartbeatTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Events a connection may hold that the client has not taken yet. A live event that finds the buffer full drops the
    /// client (it resumes from its last sequence number); a replay waits for room instead.
    /// </summary>
    [Range(4, 100_000, ErrorMessage = "Events:BufferEvents must be from 4 to 100000.")]
    public int BufferEvents { get; set; } = 256;

    /// <summary>
    /// How long a full buffer may stay full (the client takes no event) before the client counts as too slow and is
    /// dropped; a client catching up on a long history keeps taking events and is not.
    /// </summary>
    [Range(10, 600_000, ErrorMessage = "Events:SlowClientGraceMs must be from 10 to 600000.")]
    public int SlowClientGraceMs { get; set; } = 2000;

    /// <summary>How long one write to a client may take before the client counts as too slow and is dropped.</summary>
    [Range(1, 600, ErrorMessage = "Events:SendTimeoutSeconds must be from 1 to 600.")]
    public int SendTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Kernel send buffer of a streaming connection's socket (bytes; 0 leaves the system's auto-tuning), so that a client
    /// that stops reading fills its buffers after a bounded amount of data and is noticed.
    /// </summary>
    [Range(0, 16 * 1024 * 1024, ErrorMessage = "Events:SocketSendBufferBytes must be from 0 to 16777216.")]
    public int SocketSendBufferBytes { get; set; } = 64 * 1024;

    /// <summary>Streams this replica serves at once; more are refused with 503 too_many_streams.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Events:MaxConnections must be from 1 to 1000000.")]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>How often a stream looks at the catalog when no notification woke it (the fallback when Redis pub/sub is down).</summary>
    [Range(100, 60_000, ErrorMessage = "Events:PollIntervalMs must be from 100 to 60000.")]
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>Events read from the catalog at a time.</summary>
    [Range(1, 10_000, ErrorMessage = "Events:ReadBatchSize must be from 1 to 10000.")]
    public int ReadBatchSize { get; set; } = 200;

    /// <summary>Smallest time between two page_progress events of a document (the last page of a stage always passes).</summary>
    [Range(0, 600_000, ErrorMessage = "Events:ProgressIntervalMs must be from 0 to 600000.")]
    public int ProgressIntervalMs { get; set; } = 1000;

    /// <summary>page_progress events a document keeps at most (state changes are always kept): bounds its history.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Events:MaxProgressEventsPerDocument must be from 0 to 1000000.")]
    public int MaxProgressEventsPerDocument { get; set; } = 2000;

    /// <summary>How long a closing WebSocket waits for the client's close frame (or for room to send its own).</summary>
    [Range(1, 60, ErrorMessage = "Events:CloseTimeoutSeconds must be from 1 to 60.")]
    public int CloseTimeoutSeconds { get; set; } = 3;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan HeartbeatTimeout => TimeSpan.FromSeconds(HeartbeatTimeoutSeconds);

    public TimeSpan SendTimeout => TimeSpan.FromSeconds(SendTimeoutSeconds);

    public TimeSpan SlowClientGrace => TimeSpan.FromMilliseconds(SlowClientGraceMs);

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollIntervalMs);

    public TimeSpan CloseTimeout => TimeSpan.FromSeconds(CloseTimeoutSeconds);
}
