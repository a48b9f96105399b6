using System.Net;

namespace IngestService.Sources;

/// <summary>
/// A host and the addresses it resolved to when it was checked. The request carries it to the connect callback, which
/// connects to these addresses and resolves nothing again: a DNS answer that changes between the check and the connect
/// (DNS rebinding) cannot lead the fetch anywhere else.
/// </summary>
internal sealed record VettedHost(string Host, IReadOnlyList<IPAddress> Addresses)
{
    public static readonly HttpRequestOptionsKey<VettedHost> Key = new("Suite.UrlSource.VettedHost");

    /// <summary>Whether this is the check of <paramref name="host"/> (as the connect callback names it).</summary>
    public bool IsFor(string host) =>
        string.Equals(Host.TrimEnd('.'), host.Trim('[', ']').TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
}
