using LabelingBridge.Configuration;
using LabelingBridge.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Health;

namespace Microsoft.Extensions.Hosting;

public static class OutboxExtensions
{
    /// <summary>The export outbox: its SQLite file (opened and migrated at start-up) and its readiness check.</summary>
    public static TBuilder AddExportOutbox<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OutboxDb>();
        services.TryAddSingleton<ExportOutbox>();
        services.AddHostedService<OutboxInitializer>();
        services.AddHealthChecks().AddCheck<OutboxHealthCheck>("outbox", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}

/// <summary>Opens, checks and migrates the outbox at start-up so a broken file stops the bridge loudly.</summary>
internal sealed class OutboxInitializer(OutboxDb db) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => db.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Ready when the outbox can take a write lock; reports the pending backlog. In read-only mode (writes failed
/// repeatedly, Req CB-5) it is Degraded, still ready since reads work, and says why and when writes are tried again.
/// </summary>
internal sealed class OutboxHealthCheck(OutboxDb db, ExportOutbox outbox, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var data = new Dictionary<string, object>
            {
                ["openConnections"] = db.Database.OpenConnections,
                ["maxConnections"] = db.Database.MaxConnections,
                ["readOnly"] = db.Database.ReadOnly is not null,
            };
            if (db.Database.ReadOnly is null)
            {
                // A write transaction that changes nothing proves the file is writable and not locked for long.
                await db.WriteAsync((_, _, _) => Task.FromResult(true), cancellationToken);
            }

            var (count, oldest) = await outbox.PendingAsync(cancellationToken);
            data["pendingExports"] = count;
            if (oldest is { } at)
            {
                data["oldestPendingSeconds"] = Math.Round((time.GetUtcNow() - at).TotalSeconds, 1);
            }

            if (db.Database.ReadOnly is not { } readOnly)
            {
                return HealthCheckResult.Healthy("outbox writable", data);
            }

            var retryAfter = readOnly.RetryAfter(time.GetUtcNow());
            data["retryAfterSeconds"] = (int)retryAfter.TotalSeconds;
            data["diskFull"] = readOnly.DiskFull;
            return HealthCheckResult.Degraded(
                $"the outbox is read-only because writes failed: {readOnly.Reason}. Reads work; exports and webhooks are refused until a " +
                $"probe write succeeds (next in {(int)retryAfter.TotalSeconds} s).",
                data: data);
        }
        catch (DatabaseReadOnlyException ex)
        {
            return HealthCheckResult.Degraded(ex.Message);
        }
        catch (SqliteException ex)
        {
            return HealthCheckResult.Unhealthy($"outbox database {db.DatabasePath} is not usable (SQLite error {ex.SqliteErrorCode})", ex);
        }
    }
}
