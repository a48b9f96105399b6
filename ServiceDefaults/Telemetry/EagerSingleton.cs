using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Suite.ServiceDefaults.Telemetry;

/// <summary>
/// Resolves a singleton when the host starts. Observable instruments exist only once the object that creates them
/// does; a gauge must be there from the first scrape, not from the first time some code happens to need its owner.
/// </summary>
public sealed class EagerSingleton<T>(T instance) : IHostedService
    where T : class
{
    public T Instance { get; } = instance;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class EagerSingletonExtensions
{
    /// <summary>Registers <typeparamref name="T"/> as a singleton created with the host (for instruments it owns).</summary>
    public static IServiceCollection AddEagerSingleton<T>(this IServiceCollection services)
        where T : class
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => new EagerSingleton<T>(sp.GetRequiredService<T>()));
        return services;
    }
}
