using System.Net;
using System.Net.Sockets;

namespace IngestService.Sources;

/// <summary>
/// The URL source client's <see cref="SocketsHttpHandler.ConnectCallback"/>: connects only to addresses that passed the
/// guard. Normally those the request carries (<see cref="VettedHost"/>), so the connect uses the very answer that was
/// checked; for a host it carries no check of, the guard resolves and checks it here. Nothing reaches the socket layer's
/// own name resolution.
/// </summary>
internal sealed class VettedConnector(SourceAddressGuard guard)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var vetted = context.InitialRequestMessage.Options.TryGetValue(VettedHost.Key, out var carried) && carried.IsFor(endpoint.Host)
            ? carried
            : await guard.VetHostAsync(endpoint.Host, cancellationToken);

        SocketException? last = null;
        foreach (var address in vetted.Addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                // The next address of the host (an IPv6 one on a host without IPv6, say).
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}
