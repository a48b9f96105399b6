using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting;

/// <summary>Where the suite keeps its data, and the ports the AppHost chooses itself.</summary>
public static class SuitePaths
{
    /// <summary>
    /// A resource's data folder: <c>Suite:DataDir</c> (default <c>&lt;repo&gt;/.data</c>) / <paramref name="resource"/>,
    /// created if missing.
    /// </summary>
    public static string DataPath(this IDistributedApplicationBuilder builder, string resource)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var root = builder.Configuration["Suite:DataDir"];
        if (string.IsNullOrWhiteSpace(root))
        {
            root = Path.Combine(builder.AppHostDirectory, "..", ".data");
        }

        var path = Path.GetFullPath(Path.Combine(root, resource));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// The port in configuration key <paramref name="key"/>, or one the system reports free now when it is unset or 0.
    /// For resources DCP does not proxy, so two suites on one machine never fight over a fixed port.
    /// </summary>
    public static int PortFromConfigurationOrFree(this IDistributedApplicationBuilder builder, string key)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder.Configuration[key];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (!int.TryParse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
            {
                throw new InvalidOperationException($"{key} is '{configured}'; use a port number from 1 to 65535, or 0 for any free port.");
            }

            if (port != 0)
            {
                return port;
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
