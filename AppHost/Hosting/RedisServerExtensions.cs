using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>redis-server run as a process (no container engine here), referenced exactly like Aspire's Redis resource.</summary>
public sealed class RedisServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    private EndpointReference? _endpoint;

    public EndpointReference PrimaryEndpoint => _endpoint ??= new EndpointReference(this, EndpointName);

    /// <summary>StackExchange.Redis format, as Aspire's Redis resource writes it (no password: bound to loopback).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

public static class RedisServerExtensions
{
    /// <summary>
    /// In run mode a <c>redis-server</c> from PATH with AOF (appendfsync everysec), no RDB snapshots, noeviction, data in
    /// <c>&lt;data&gt;/redis</c>, on 127.0.0.1 at <c>Suite:RedisPort</c> or a free port, with a PING health check and
    /// restarted when it crashes. In publish mode Aspire's Redis container under the same name, so a deployment
    /// description holds a real Redis. Services read <c>ConnectionStrings__{name}</c> either way.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddRedis(name);
        }

        RequireOnPath("redis-server", "sudo apt-get install -y redis-server (or run bash .ci/prereqs)");
        var dataDirectory = builder.DataPath("redis");
        var port = builder.PortFromConfigurationOrFree("Suite:RedisPort");
        var healthCheckKey = name + "_ping";
        var resource = new RedisServerResource(name, dataDirectory);
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new RedisPingCheck(resource), HealthStatus.Unhealthy, tags: null, timeout: TimeSpan.FromSeconds(3)));

        return builder.AddResource(resource)
            .WithEndpoint(RedisServerResource.EndpointName, e =>
            {
                e.Port = port;
                e.TargetPort = port;
                e.UriScheme = "tcp";
                e.IsProxied = false;
            })
            .WithArgs(
                "--bind", "127.0.0.1",
                "--port", port.ToString(CultureInfo.InvariantCulture),
                "--dir", dataDirectory,
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--maxmemory-policy", "noeviction",
                "--protected-mode", "yes")
            .WithHealthCheck(healthCheckKey)
            .WithRestartOnCrash();
    }

    /// <summary>Fails the start in words when a program the suite runs is not installed (instead of a resource stuck waiting).</summary>
    private static void RequireOnPath(string program, string howToInstall)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(folder => File.Exists(Path.Combine(folder, program)));
        if (!found)
        {
            throw new DistributedApplicationException($"{program} is not on PATH. Install it with: {howToInstall}");
        }
    }

    /// <summary>PING over a plain socket: the AppHost needs no Redis client for one health check.</summary>
    private sealed class RedisPingCheck(RedisServerResource redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var endpoint = redis.PrimaryEndpoint;
            if (!endpoint.IsAllocated)
            {
                return HealthCheckResult.Unhealthy("redis-server has no allocated endpoint yet.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer, cancellationToken);
                var reply = Encoding.ASCII.GetString(buffer, 0, read);
                return reply.StartsWith("+PONG", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("redis-server answered PING with: " + reply.Trim());
            }
            catch (SocketException ex)
            {
                return HealthCheckResult.Unhealthy("redis-server is not accepting connections: " + ex.Message);
            }
        }
    }
}
