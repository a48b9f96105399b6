using System.Globalization;
using Suite.Contracts;
using Suite.ServiceDefaults.Problems;

namespace IngestService.Events;

/// <summary>The problems of the event streams, answered before a stream starts (once it runs, a stream ends with a close reason).</summary>
internal static class EventProblems
{
    public const string LastEventIdHeader = "Last-Event-ID";

    public static IResult InvalidAfter(string? value, bool fromHeader) => ApiProblem.Result(400, "invalid_after", "Invalid resume position",
        $"The {(fromHeader ? "header " + LastEventIdHeader : "query parameter '" + EventRoutes.AfterParameter + "'")} must be a whole number " +
        $"from 0 (the last sequence number you received; 0 or none for the whole history); it was '{Clip(value)}'.",
        extensions: fromHeader
            ? new Dictionary<string, object?> { ["header"] = LastEventIdHeader }
            : new Dictionary<string, object?> { ["parameter"] = EventRoutes.AfterParameter });

    public static IResult WebSocketRequired(string id) => ApiProblem.Result(400, "websocket_required", "WebSocket upgrade required",
        $"{EventRoutes.DocumentSocket(id)} speaks WebSocket only: send a WebSocket upgrade request (GET with Upgrade: websocket), " +
        $"or read the same events as Server-Sent Events from {EventRoutes.DocumentEvents(id)}.");

    public static IResult TooManyStreams(int max) => ApiProblem.Result(503, "too_many_streams", "Too many event streams",
        $"This service already serves {max.ToString(CultureInfo.InvariantCulture)} event streams (Events:MaxConnections). " +
        "Reconnect after Retry-After, with your last sequence number; nothing is lost meanwhile.",
        retryable: true, retryAfter: TimeSpan.FromSeconds(5));

    public static IResult ClientRequired() => ApiProblem.Result(400, "client_required", "Client not identified",
        $"{EventRoutes.ClientEvents} streams the documents of the calling client, which the gateway names from your API key. " +
        "Call it through the gateway with your key.",
        extensions: new Dictionary<string, object?> { ["header"] = "X-Suite-Client" });

    public static IResult InvalidProgress(string why) => ApiProblem.Result(400, "invalid_progress", "Invalid page progress",
        $"The body must be a PageProgressReport {{ \"page\": n, \"pages\": m }} with 1 <= page <= pages ({why}).");

    private static string Clip(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "...";
}
