using System.Net;
using System.Net.Sockets;

namespace IngestService.Sources;

/// <summary>
/// Resolves a URL source's host and refuses it unless every address it resolves to is a public internet address or
/// allowed by <c>Sources:AllowedHosts</c> (Req FMT-3). Run for the URL and for every redirect, and again by the connect
/// callback for any host the request did not carry a check of.
/// </summary>
internal sealed class SourceAddressGuard(SourceAllowList allowList)
{
    /// <summary>The host of <paramref name="url"/> with the addresses to connect to; throws <see cref="UrlRefusedException"/>.</summary>
    public Task<VettedHost> VetAsync(Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        // IdnHost is the name DNS knows (punycode); an IPv6 literal comes without its brackets and zone from DnsSafeHost.
        var host = url.HostNameType == UriHostNameType.IPv6 ? url.DnsSafeHost : url.IdnHost;
        return VetHostAsync(host, cancellationToken);
    }

    public async Task<VettedHost> VetHostAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        host = host.Trim('[', ']');
        var literal = IPAddress.TryParse(host, out var parsed);
        var addresses = literal ? [parsed!] : await ResolveAsync(host, cancellationToken);
        if (allowList.AllowsName(host))
        {
            return new VettedHost(host, addresses);
        }

        // Every address, not only the first: a name that resolves to a public and a private address would otherwise
        // reach the private one whenever the connect falls back to it.
        foreach (var address in addresses)
        {
            if (!allowList.AllowsAddress(address) && AddressClassifier.Classify(address) is { } kind)
            {
                // An IPv4-mapped address is named as the IPv4 address it reaches, which is what was judged.
                var shown = kind.Describe(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
                throw UrlRefusedException.Forbidden(literal
                    ? $"it points at {shown}, not a public internet address"
                    : $"the host {host} resolves to {shown}, not a public internet address");
            }
        }

        return new VettedHost(host, addresses);
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            // WaitAsync: the name service call is not cancellable everywhere; the fetch's deadline still holds.
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).WaitAsync(cancellationToken);
        }
        catch (SocketException ex)
        {
            // A name that does not exist will not start to by itself; a name server that failed may answer next time.
            var missing = ex.SocketErrorCode == SocketError.HostNotFound;
            throw UrlRefusedException.FetchFailed(
                missing ? $"the host name {host} does not exist (DNS)" : $"the host name {host} could not be resolved ({ex.SocketErrorCode})",
                retryable: !missing);
        }

        return addresses.Length > 0 ? addresses : throw UrlRefusedException.FetchFailed($"the host name {host} resolves to no address", retryable: false);
    }
}
