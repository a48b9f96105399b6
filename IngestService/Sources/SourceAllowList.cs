using System.Net;
using Microsoft.Extensions.Options;

namespace IngestService.Sources;

/// <summary>
/// <c>Sources:AllowedHosts</c>, parsed: the host names and the address ranges an operator lets URL sources reach
/// although they are not public. A named host is trusted with whatever it resolves to; an address is allowed when a
/// range holds it (an IPv4-mapped IPv6 address counts as its IPv4 address).
/// </summary>
internal sealed class SourceAllowList
{
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IPNetwork> _ranges = [];

    public SourceAllowList(IOptions<SourceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var entry in options.Value.AllowedHosts)
        {
            // Entries were validated at start-up (Explain); one that slipped through allows nothing.
            if (TryParse(entry, out var name, out var range))
            {
                if (name is not null)
                {
                    _names.Add(name);
                }
                else
                {
                    _ranges.Add(range);
                }
            }
        }
    }

    public bool AllowsName(string host) => _names.Contains(Normalize(host));

    public bool AllowsAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : new IPAddress(address.GetAddressBytes());
        return _ranges.Exists(r => r.Contains(plain));
    }

    /// <summary>Null when every entry is a host name, an address or a CIDR range; else a message naming the bad one.</summary>
    public static string? Explain(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (!TryParse(entry, out _, out _))
            {
                return $"Sources:AllowedHosts entry '{entry}' is not a host name (example.internal), an address (10.1.2.3) or a CIDR range " +
                       "(10.1.0.0/16, fd00::/8). Fix or remove it.";
            }
        }

        return null;
    }

    private static bool TryParse(string? entry, out string? name, out IPNetwork range)
    {
        name = null;
        range = default;
        var text = entry?.Trim() ?? "";
        if (text.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(text, out range);
        }

        if (IPAddress.TryParse(text.Trim('[', ']'), out var address))
        {
            var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            range = new IPNetwork(plain, plain.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        if (Uri.CheckHostName(Normalize(text)) != UriHostNameType.Dns)
        {
            return false;
        }

        name = Normalize(text);
        return true;
    }

    /// <summary>Names compare without case and without the root's trailing dot ("localhost." is "localhost").</summary>
    private static string Normalize(string host) => host.Trim().TrimEnd('.');
}
