using LabelingBridge.Configuration;
using LabelingBridge.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Lifecycle;

namespace Microsoft.Extensions.Hosting;

public static class OutboxExtensions
{
    /// <summary>
    /// The export outbox: its SQLite file (opened and migrated by a start-up step, checkpointed and closed on stop) and
    /// its readiness check.
    /// </summary>
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
        services.AddStartupStep<OutboxInitializer>();
        services.AddSqliteCheckpointOnStop(OutboxDb.DatabaseName, sp =>
        {
            var (initializer, db) = (sp.GetRequiredService<OutboxInitializer>(), sp.GetRequiredService<OutboxDb>());
            return () => initializer.IsOpen ? db.DatabasePath : null;
        });
        services.AddHealthChecks().AddCheck<OutboxHealthCheck>("outbox", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}

/// <summary>
/// Start-up step: opens, checks and migrates the outbox. A file that cannot be opened yet is retried with backoff; one
/// that is damaged, fails its integrity check or has a newer schema ends start-up: the bridge stays live and not ready,
/// saying why, and the file is left as it is.
/// </summary>
internal sealed class OutboxInitializer(OutboxDb db) : IStartupStep
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;
    private volatile bool _open;

    public string Name => "opening the outbox";

    /// <summary>The outbox passed its checks: the file may be checkpointed on stop.</summary>
    public bool IsOpen => _open;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.InitializeAsync(cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            // Integrity check failed or the schema is newer than this build: retrying cannot help.
            throw new StartupFailedException(ex.Message, ex);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new StartupFailedException(
                $"the outbox database {db.DatabasePath} is damaged (SQLite error {ex.SqliteErrorCode}: {ex.Message}); restore it from a backup or move it aside.", ex);
        }

        _open = true;
    }
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
