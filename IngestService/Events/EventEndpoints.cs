using System.Globalization;
using IngestService.Api;
using IngestService.Documents;
using IngestService.Events;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The public event streams (docs/events.md): Server-Sent Events and WebSocket of one document, and Server-Sent Events of
/// every document of the calling client. Checks (document, resume position, capacity) answer problems before a stream
/// starts; a running stream ends with its own close reason.
/// </summary>
internal static class EventEndpoints
{
    public static WebApplication MapEventEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWebSockets();
        app.MapGet("/api/documents/{id}/events", DocumentEventsAsync)
            .WithTags("events")
            .AddEndpointFilter<StorageFailureFilter>()
            .AddEndpointFilter<IngestService.Retention.TombstoneFilter>()
            .WithName("StreamDocumentEvents")
            .WithSummary("Follow a document's progress as Server-Sent Events")
            .WithDescription("Replays the document's events after the resume position (Last-Event-ID, else ?after=, else from the first), " +
                             "then streams new ones as they happen: `id: <seq>`, `event: <type>`, `data: <event JSON>`, and `: ping` " +
                             "comments as heartbeat. Once the document is terminal and every event was sent: `event: end` with " +
                             "`data: {\"status\": \"…\"}`, and the stream closes. See docs/events.md.")
            .WithResumeOptions()
            .Produces<ProgressEvent>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesApiProblem(400, "invalid_after")
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(410, "document_expired", "document_deleted")
            .ProducesApiProblem(503, "too_many_streams", "catalog_unavailable", "catalog_busy");
        app.MapGet("/api/documents/{id}/ws", DocumentSocketAsync)
            .WithTags("events")
            .AddEndpointFilter<StorageFailureFilter>()
            .AddEndpointFilter<IngestService.Retention.TombstoneFilter>()
            .WithName("FollowDocumentOverWebSocket")
            .WithSummary("Follow a document's progress over a WebSocket")
            .WithDescription("A WebSocket upgrade. Text messages: the event JSON (with its seq), replayed after ?after= then live; " +
                             "`{\"type\": \"end\", \"status\": \"…\"}` and a normal close (1000) once the document is terminal. The " +
                             "server pings at the heartbeat interval; a slow client is closed with 1008, a restarting service " +
                             "closes with 1012, each reason naming the last seq delivered. See docs/events.md.")
            .WithResumeOptions(header: false)
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .ProducesApiProblem(400, "invalid_after", "websocket_required")
            .ProducesApiProblem(404, "document_not_found")
            .ProducesApiProblem(410, "document_expired", "document_deleted")
            .ProducesApiProblem(503, "too_many_streams", "catalog_unavailable", "catalog_busy");
        app.MapGet(EventRoutes.ClientEvents, ClientEventsAsync)
            .WithTags("events")
            .AddEndpointFilter<StorageFailureFilter>()
            .WithName("StreamClientEvents")
            .WithSummary("Follow every document of your API key as Server-Sent Events")
            .WithDescription("The events of every document uploaded with your key, in the order they happened, with no end: " +
                             "`id:` is the catalog's global position (resume with Last-Event-ID or ?after=), `event:` the type, " +
                             "`data:` the event JSON (its seq is the document's). See docs/events.md.")
            .WithResumeOptions()
            .Produces<ProgressEvent>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesApiProblem(400, "invalid_after", "client_required")
            .ProducesApiProblem(503, "too_many_streams", "catalog_unavailable", "catalog_busy");
        return app;
    }

    private static RouteHandlerBuilder WithResumeOptions(this RouteHandlerBuilder builder, bool header = true)
    {
        builder.WithQueryParameter(EventRoutes.AfterParameter,
            "Optional. Resume after this position: the last id (sequence number) you received; 0 or none for the whole history.");
        return header
            ? builder.WithHeaderParameter(EventProblems.LastEventIdHeader,
                "Optional. Sent by EventSource when it reconnects; wins over ?after=.")
            : builder;
    }

    private static async Task<IResult> DocumentEventsAsync(
        string id, HttpContext http, [FromServices] EventCatalog catalog, [FromServices] EventStream stream, [FromServices] EventMetrics metrics,
        [FromServices] IOptions<EventOptions> options)
    {
        if (await CheckAsync(id, http, catalog, metrics, options.Value, header: true) is { } problem)
        {
            return problem;
        }

        LimitSendBuffer(http, options.Value);
        var sink = await SseSink.StartAsync(http);
        await stream.RunAsync(sink, StreamFeed.Document(id), After(http, header: true), http.RequestAborted);
        return Results.Empty;
    }

    private static async Task<IResult> DocumentSocketAsync(
        string id, HttpContext http, [FromServices] EventCatalog catalog, [FromServices] EventStream stream, [FromServices] EventMetrics metrics,
        [FromServices] IOptions<EventOptions> options)
    {
        if (await CheckAsync(id, http, catalog, metrics, options.Value, header: false) is { } problem)
        {
            return problem;
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            return EventProblems.WebSocketRequired(id);
        }

        LimitSendBuffer(http, options.Value);
        var sink = await WebSocketSink.AcceptAsync(http, options.Value);
        await stream.RunAsync(sink, StreamFeed.Document(id), After(http, header: false), http.RequestAborted);
        return Results.Empty;
    }

    private static async Task<IResult> ClientEventsAsync(
        HttpContext http, [FromServices] EventStream stream, [FromServices] EventMetrics metrics, [FromServices] IOptions<EventOptions> options)
    {
        var client = http.Request.Headers[UploadHandler.ClientHeader].ToString();
        if (string.IsNullOrEmpty(client))
        {
            return EventProblems.ClientRequired();
        }

        if (ParseAfter(http, header: true) is { Problem: { } invalid })
        {
            return invalid;
        }

        if (metrics.Open >= options.Value.MaxConnections)
        {
            return EventProblems.TooManyStreams(options.Value.MaxConnections);
        }

        LimitSendBuffer(http, options.Value);
        var sink = await SseSink.StartAsync(http);
        await stream.RunAsync(sink, StreamFeed.OfClient(client), After(http, header: true), http.RequestAborted);
        return Results.Empty;
    }

    /// <summary>The document exists, the resume position is a number, and this replica has room for one more stream.</summary>
    private static async Task<IResult?> CheckAsync(string id, HttpContext http, EventCatalog catalog, EventMetrics metrics, EventOptions options, bool header)
    {
        if (!DocumentId.IsValid(id) || await catalog.HeadAsync(id, http.RequestAborted) is null)
        {
            return IngestProblems.DocumentNotFound(id);
        }

        if (ParseAfter(http, header) is { Problem: { } invalid })
        {
            return invalid;
        }

        return metrics.Open >= options.MaxConnections ? EventProblems.TooManyStreams(options.MaxConnections) : null;
    }

    private static long After(HttpContext http, bool header) => ParseAfter(http, header).After;

    /// <summary>Last-Event-ID (when <paramref name="header"/>) wins over ?after=; neither means 0 (the whole history).</summary>
    private static (long After, IResult? Problem) ParseAfter(HttpContext http, bool header)
    {
        if (header && http.Request.Headers.TryGetValue(EventProblems.LastEventIdHeader, out var lastEventId) && lastEventId.Count > 0)
        {
            return Parse(lastEventId.ToString(), fromHeader: true);
        }

        return http.Request.Query.TryGetValue(EventRoutes.AfterParameter, out var after) ? Parse(after.ToString(), fromHeader: false) : (0, null);
    }

    private static (long, IResult?) Parse(string text, bool fromHeader) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? (value, null)
            : (0, EventProblems.InvalidAfter(text, fromHeader));

    /// <summary>
    /// Caps the socket's kernel send buffer, so a client that stops reading is noticed after a bounded amount of data; and
    /// leaves slow clients to the stream's own rule (which says why it drops one) instead of Kestrel's minimum response
    /// data rate (which would cut the connection without a word).
    /// </summary>
    private static void LimitSendBuffer(HttpContext http, EventOptions options)
    {
        if (http.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        if (options.SocketSendBufferBytes > 0 && http.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            socket.SendBufferSize = options.SocketSendBufferBytes;
        }
    }
}
