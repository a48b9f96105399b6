using System.Text;
using Microsoft.Net.Http.Headers;

namespace Gateway.FrontDoor;

/// <summary>
/// The API key as a browser WebSocket can send it: a browser cannot set headers on <c>new WebSocket(url, protocols)</c>,
/// only the subprotocols it offers (<c>Sec-WebSocket-Protocol</c>). One offered subprotocol
/// <c>suite-key.&lt;base64url(key)&gt;</c> carries the key (base64url without padding keeps any key within the token
/// characters a subprotocol allows); the gateway removes it before forwarding, so the key never reaches a service, and
/// the service selects <c>suite-events</c> from what is left. docs/events.md has the browser code.
/// </summary>
internal static class WebSocketKeyProtocol
{
    public const string Prefix = "suite-key.";

    /// <summary>The subprotocol the event streams select when a client offers it.</summary>
    public const string EventsProtocol = "suite-events";

    /// <summary>The key carried by an offered <c>suite-key.*</c> subprotocol, or null (none offered, or not base64url).</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var offered in Offered(request.Headers[HeaderNames.SecWebSocketProtocol].ToString()))
        {
            if (offered.StartsWith(Prefix, StringComparison.Ordinal) && Decode(offered[Prefix.Length..]) is { Length: > 0 } key)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>The offered subprotocols without the key, comma-separated; null when nothing is left.</summary>
    public static string? WithoutKey(string header)
    {
        var rest = Offered(header).Where(p => !p.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        return rest.Count == 0 ? null : string.Join(", ", rest);
    }

    /// <summary>Whether a header value offers the key subprotocol.</summary>
    public static bool CarriesKey(string header) => Offered(header).Any(p => p.StartsWith(Prefix, StringComparison.Ordinal));

    private static IEnumerable<string> Offered(string header) =>
        header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Decode(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
        Span<byte> bytes = stackalloc byte[Math.Min(text.Length, 1024)];
        return text.Length <= 1024 && Convert.TryFromBase64String(text, bytes, out var written) ? Encoding.UTF8.GetString(bytes[..written]) : null;
    }
}
