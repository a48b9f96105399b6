using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Suite.ServiceDefaults.Lifecycle;

namespace Suite.ServiceDefaults.Redis;

/// <summary>
/// Start-up step: waits for the first connection to Redis, beside the service's own steps (nothing else waits for
/// it: the multiplexer, created with abortConnect=false, reconnects by itself, and the services work around a missing
/// Redis). Each attempt is a PING; the runner retries it with backoff and logs every failed attempt, so a Redis that is
/// down at start-up shows in the logs and in readiness until it answers.
/// </summary>
internal sealed class RedisConnectionStep(IServiceProvider services) : IStartupStep
{
    public string Name => "connecting to Redis";

    public bool WaitsForDependency => true;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Resolved here, in the background: creating the multiplexer waits up to the connect timeout for a first answer.
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
    }
}
