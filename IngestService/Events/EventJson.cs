using System.Buffers;
using System.Text.Json;

namespace IngestService.Events;

/// <summary>
/// The wire form of an event (docs/events.md): camelCase, every member present in this order, null where it does not
/// apply: <c>{"seq","documentId","type","at","stage","status","detail","page","pages"}</c>; and the stream's end message.
/// </summary>
internal static class EventJson
{
    public static byte[] Event(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", e.Seq);
            json.WriteString("documentId", e.DocumentId);
            json.WriteString("type", e.Type);
            json.WriteString("at", e.At);
            WriteNullable(json, "stage", e.Stage);
            WriteNullable(json, "status", e.Status);
            WriteNullable(json, "detail", e.Detail);
            WriteNullable(json, "page", e.Page);
            WriteNullable(json, "pages", e.Pages);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>SSE's end data: <c>{"status":"…"}</c>; with <paramref name="withType"/> (WebSocket) <c>{"type":"end","status":"…"}</c>.</summary>
    public static byte[] End(string status, bool withType)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (withType)
            {
                json.WriteString("type", Suite.Contracts.ProgressEventTypes.End);
            }

            json.WriteString("status", status);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
