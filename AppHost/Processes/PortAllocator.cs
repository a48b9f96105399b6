using System.Net;
using System.Net.Sockets;

namespace Suite.AppHost.Processes;

internal static class PortAllocator
{
    /// <summary>
    /// <paramref name="count"/> distinct free loopback ports: every listener is held until all are chosen, so
    /// the kernel cannot hand the same port out twice.
    /// </summary>
    public static IReadOnlyList<int> AllocateFree(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    /// <summary>Whether a fixed port can be bound on 127.0.0.1 right now.</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
