using System.Net;
using System.Net.Sockets;

namespace IngestService.Sources;

/// <summary>Why an address is not a public internet address: what kind it is and the range it is in.</summary>
internal sealed record AddressClass(string Kind, string Range)
{
    /// <summary>For messages: "a private address 10.0.0.5 (10.0.0.0/8)".</summary>
    public string Describe(IPAddress address) => $"{Kind} {address} ({Range})";
}

/// <summary>
/// Tells public internet addresses from the rest (Req FMT-3): a URL source may reach only the former, so that a client
/// cannot make this service fetch from its own network (SSRF): loopback, private networks, link-local (cloud metadata at
/// 169.254.169.254), carrier-grade NAT, multicast, reserved and documentation ranges, in IPv4 and IPv6. IPv4 embedded
/// in IPv6 (IPv4-mapped, NAT64) is judged as the IPv4 address it reaches. Ranges from the IANA special-purpose
/// registries; for IPv6 only global unicast (2000::/3) can be public at all, so everything outside it is refused too.
/// </summary>
internal static class AddressClassifier
{
    private static readonly (IPNetwork Range, string Kind)[] V4 =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified (\"this network\") address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT (shared) address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "a reserved (IETF protocol assignment) address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.88.99.0/24"), "a reserved (6to4 relay) address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a reserved (benchmarking) address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved (or broadcast) address"),
    ];

    private static readonly (IPNetwork Range, string Kind)[] V6 =
    [
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("fc00::/7"), "a unique-local (private) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local (private) address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
        (IPNetwork.Parse("2001::/23"), "a reserved (IETF protocol assignment, Teredo) address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
        (IPNetwork.Parse("2002::/16"), "a 6to4 address (deprecated; it embeds an IPv4 address)"),
        (IPNetwork.Parse("3fff::/20"), "a documentation address"),
    ];

    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    /// <summary>The well-known NAT64 prefix: the last 32 bits are the IPv4 address the translator connects to.</summary>
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>Null for a public internet address; otherwise what kind of address it is.</summary>
    public static AddressClass? Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return Classify(address.MapToIPv4());
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return Find(V4, address);
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return new AddressClass("not an IP address", address.AddressFamily.ToString());
        }

        // A scope id (fe80::1%eth0) says nothing about the range; compare the address alone.
        var bare = new IPAddress(address.GetAddressBytes());
        if (Nat64.Contains(bare))
        {
            return Classify(new IPAddress(bare.GetAddressBytes().AsSpan(12, 4)));
        }

        if (Find(V6, bare) is { } known)
        {
            return known;
        }

        return GlobalUnicast.Contains(bare) ? null : new AddressClass("a non-global address", "outside " + GlobalUnicast);
    }

    private static AddressClass? Find((IPNetwork Range, string Kind)[] table, IPAddress address)
    {
        foreach (var (range, kind) in table)
        {
            if (range.Contains(address))
            {
                return new AddressClass(kind, range.ToString());
            }
        }

        return null;
    }
}
