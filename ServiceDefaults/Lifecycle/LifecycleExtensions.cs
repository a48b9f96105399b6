using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Health;

namespace Suite.ServiceDefaults.Lifecycle;

public static class LifecycleExtensions
{
    /// <summary>
    /// Start-up in the background after the server listens (<see cref="IStartupStep"/>s, readiness check <c>startup</c>)
    /// and a shutdown that loses nothing: a drain window (<c>Shutdown:DrainSeconds</c>), new requests refused with 503
    /// <c>shutting_down</c>, in-flight ones finished within <c>Shutdown:TimeoutSeconds</c>.
    /// </summary>
    public static TBuilder AddStartupAndShutdown<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<StartupOptions>().BindConfiguration(StartupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var environment = builder.Environment.EnvironmentName;
        services.AddOptions<ShutdownOptions>()
            .Configure(o => o.DrainSeconds = ShutdownOptions.DefaultDrainSeconds(environment))
            .BindConfiguration(ShutdownOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.TimeoutSeconds));

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StartupGate>();
        services.AddSingleton<ShutdownState>();
        services.AddHostedService<StartupRunner>();
        services.AddHostedService<ShutdownDrain>();
        services.AddHealthChecks().AddCheck<StartupHealthCheck>("startup", tags: [HealthExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>A start-up step, run in registration order among the others (the step is also resolvable as itself).</summary>
    public static IServiceCollection AddStartupStep<TStep>(this IServiceCollection services)
        where TStep : class, IStartupStep
    {
        services.AddSingleton<TStep>();
        services.AddSingleton<IStartupStep>(sp => sp.GetRequiredService<TStep>());
        return services;
    }

    /// <summary>
    /// Checkpoints and closes a SQLite database once the service has stopped (<see cref="SqliteCheckpointOnStop"/>).
    /// <paramref name="databasePathAtStop"/> is called when the service starts, to resolve what it needs, and returns
    /// what is called at stop (services may no longer be resolvable then): the file, or null to leave it untouched.
    /// </summary>
    public static IServiceCollection AddSqliteCheckpointOnStop(
        this IServiceCollection services, string databaseName, Func<IServiceProvider, Func<string?>> databasePathAtStop)
    {
        ArgumentNullException.ThrowIfNull(databasePathAtStop);
        // Not AddHostedService: it keeps one registration per implementation type, and a service may hold several databases.
        services.AddSingleton<IHostedService>(sp => new SqliteCheckpointOnStop(
            databaseName, databasePathAtStop(sp), sp.GetRequiredService<ILogger<SqliteCheckpointOnStop>>()));
        return services;
    }

    /// <summary>Refuses requests that arrive once shutdown has begun (<see cref="ShutdownRefusal"/>).</summary>
    public static WebApplication UseShutdownRefusal(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<ShutdownRefusal>();
        return app;
    }
}
