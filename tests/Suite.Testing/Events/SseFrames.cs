using System.Runtime.CompilerServices;
using System.Text;

namespace Suite.Testing.Events;

/// <summary>One Server-Sent Events frame as a client sees it: an event (id, event, data) or a comment line.</summary>
public sealed record SseFrame(string? Id, string? Event, string? Data, string? Comment)
{
    public bool IsComment => Comment is not null;
}

/// <summary>A plain reader of the text/event-stream format (what a fetch()-based browser client does by hand).</summary>
public static class SseFrames
{
    /// <summary>The frames of a body, as they arrive, until it ends; comments come as their own frames.</summary>
    public static async IAsyncEnumerable<SseFrame> ReadAsync(Stream body, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var reader = new StreamReader(body, Encoding.UTF8);
        string? id = null, type = null;
        StringBuilder? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (id is not null || type is not null || data is not null)
                {
                    yield return new SseFrame(id, type, data?.ToString(), null);
                }

                (id, type, data) = (null, null, null);
                continue;
            }

            if (line[0] == ':')
            {
                yield return new SseFrame(null, null, null, line[1..].Trim());
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value);
                    break;
            }
        }
    }
}
