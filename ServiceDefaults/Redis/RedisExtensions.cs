using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;

namespace Suite.ServiceDefaults.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// Aspire's Redis client integration (<c>AddRedisClient</c>: a singleton <see cref="IConnectionMultiplexer"/> for
    /// <c>ConnectionStrings:{name}</c>, which the AppHost injects as <c>ConnectionStrings__redis</c>) with the suite's
    /// bounds: the service starts even while Redis is down (abortConnect=false) and reconnects by itself; connect and
    /// command timeouts (<c>Redis:ConnectTimeoutMs</c>, <c>Redis:CommandTimeoutMs</c>, 5 s) keep a hung Redis from
    /// hanging a request. Readiness is our own check, tagged ready, Unhealthy or only Degraded per <paramref name="critical"/>.
    /// </summary>
    public static TBuilder AddResilientRedisClient<TBuilder>(this TBuilder builder, string connectionName, bool critical = true)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName)))
        {
            throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{connectionName}' is not set. Start the service through the AppHost, " +
                $"or set ConnectionStrings__{connectionName}=host:port.");
        }

        var connectTimeout = builder.Configuration.GetValue("Redis:ConnectTimeoutMs", 5000);
        var commandTimeout = builder.Configuration.GetValue("Redis:CommandTimeoutMs", 5000);
        var clientName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        builder.AddRedisClient(
            connectionName,
            settings =>
            {
                // Readiness below says what a missing Redis means for this service. The job hop is traced by the
                // producer and consumer spans; a span per command would bury them under the workers' polling.
                settings.DisableHealthChecks = true;
                settings.DisableTracing = true;
            },
            options =>
            {
                options.AbortOnConnectFail = false;
                // Creating the multiplexer waits for its first connection, ConnectRetry times ConnectTimeout, and services
                // create it while the host starts: one try, so a hung Redis delays start-up (and liveness) by one timeout,
                // not three. It reconnects in the background by itself afterwards.
                options.ConnectRetry = 1;
                options.ConnectTimeout = connectTimeout;
                options.SyncTimeout = commandTimeout;
                options.AsyncTimeout = commandTimeout;
                options.ClientName = clientName;
            });

        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "redis",
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()),
            critical ? HealthStatus.Unhealthy : HealthStatus.Degraded,
            [HealthExtensions.ReadyTag],
            TimeSpan.FromSeconds(3)));

        // The first connection is awaited in the background and logged, as a start-up step, where readiness needs Redis.
        if (critical)
        {
            builder.Services.AddStartupStep<RedisConnectionStep>();
        }

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
