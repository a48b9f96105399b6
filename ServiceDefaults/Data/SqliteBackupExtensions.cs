using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Telemetry;

using Suite.ServiceDefaults.Lifecycle;

namespace Suite.ServiceDefaults.Data;

public static class SqliteBackupExtensions
{
    /// <summary>
    /// Backups of one SQLite database: periodic online backups (<see cref="SqliteBackupService"/>) configured by
    /// <paramref name="section"/>, the <see cref="SqliteBackups"/> the admin routes use (keyed by
    /// <paramref name="name"/>), the readiness check <c>backups</c> (Degraded at worst), and the shared hold on the
    /// database's lock file that keeps the restore command away while the service runs. Call it before the
    /// database's own registration so the lock is taken before the file is opened.
    /// </summary>
    /// <param name="name">The database's name: the <c>db</c> label of its metrics, its backups' file prefix, its admin routes.</param>
    /// <param name="section">Configuration section of its <see cref="SqliteBackupOptions"/>, e.g. <c>Catalog:Backups</c>.</param>
    /// <param name="databasePath">The database file, resolved when the service starts.</param>
    /// <param name="isReady">Whether the database may be copied now (it passed its start-up check); null: always.</param>
    /// <param name="onDamage">Called with the reason when an integrity check finds the database damaged (stop using it).</param>
    public static TBuilder AddSqliteBackups<TBuilder>(
        this TBuilder builder,
        string name,
        string section,
        Func<IServiceProvider, string> databasePath,
        Func<IServiceProvider, bool>? isReady = null,
        Action<IServiceProvider, string>? onDamage = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(section);
        ArgumentNullException.ThrowIfNull(databasePath);
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BackupMetrics>();
        services.AddOptions<SqliteBackupOptions>(name).BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SqliteBackupOptions>>(new SqliteBackupOptionsValidator(name, section));

        services.AddKeyedSingleton(name, (sp, _) => new SqliteBackups(
            name,
            databasePath(sp),
            sp.GetRequiredService<IOptionsMonitor<SqliteBackupOptions>>().Get(name),
            isReady is null ? () => true : () => isReady(sp),
            onDamage is null ? null : reason => onDamage(sp, reason),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<BackupMetrics>(),
            sp.GetRequiredService<ILogger<SqliteBackups>>(),
            sp.GetService<DatabaseMetrics>()));
        // Also as a plain singleton, so the readiness check sees every database of the service.
        services.AddSingleton(sp => sp.GetRequiredKeyedService<SqliteBackups>(name));

        // Registered as IHostedService instances, not with AddHostedService: that adds a type only once, and a
        // service may back up more than one database.
        services.AddSingleton<IStartupStep>(sp => new DatabaseFileLockHolder(
            name, () => databasePath(sp), sp.GetRequiredService<ILogger<DatabaseFileLockHolder>>()));
        services.AddSingleton<IHostedService>(sp => new SqliteBackupService(
            sp.GetRequiredKeyedService<SqliteBackups>(name),
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteBackupService>>()));

        if (!services.Any(d => d.ServiceType == typeof(SqliteBackupHealthCheck)))
        {
            services.AddSingleton<SqliteBackupHealthCheck>();
            services.AddHealthChecks().AddCheck<SqliteBackupHealthCheck>(
                SqliteBackupHealthCheck.Name, failureStatus: HealthStatus.Degraded, tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(1));
        }

        return builder;
    }
}
