using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Suite.ServiceDefaults.Health;

namespace Suite.ServiceDefaults.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// A singleton <see cref="IConnectionMultiplexer"/> for the connection string <c>ConnectionStrings:{name}</c>
    /// (the AppHost injects it as <c>ConnectionStrings__redis</c>), plus a readiness check.
    /// The service starts even while Redis is down (abortConnect=false) and reconnects by itself;
    /// connect and command timeouts are bounded so a hung Redis cannot hang a request.
    /// </summary>
    public static TBuilder AddRedisClient<TBuilder>(this TBuilder builder, string connectionName, bool critical = true)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{connectionName}' is not set. Start the service through the AppHost, " +
                $"or set ConnectionStrings__{connectionName}=host:port.");
        }

        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = builder.Configuration.GetValue("Redis:ConnectTimeoutMs", 5000);
        options.SyncTimeout = builder.Configuration.GetValue("Redis:CommandTimeoutMs", 5000);
        options.AsyncTimeout = options.SyncTimeout;
        options.ClientName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "redis",
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()),
            critical ? HealthStatus.Unhealthy : HealthStatus.Degraded,
            [HealthExtensions.ReadyTag],
            TimeSpan.FromSeconds(3)));
        return builder;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
                return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "Redis is not answering: " + ex.Message);
            }
        }
    }
}
