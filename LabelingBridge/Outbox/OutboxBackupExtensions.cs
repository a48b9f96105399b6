using LabelingBridge.Outbox;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Health;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Backups of the export outbox (section <c>Outbox:Backups</c>, files <c>backups/outbox-{UTC time}.db</c> beside
/// <c>Outbox:DatabasePath</c>), its operator routes <c>POST /internal/admin/outbox/backup</c> and
/// <c>/integrity-check</c>, and the readiness check <c>outbox-integrity</c> that damage found by that route fails.
/// </summary>
public static class OutboxBackupExtensions
{
    public const string Section = "Outbox:Backups";

    /// <summary>Before <c>AddExportOutbox</c>: the outbox's lock file is then held before the outbox is opened.</summary>
    public static TBuilder AddOutboxBackups<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The outbox's start-up check stops the bridge when it fails, so a running bridge always has a good file to copy.
        builder.AddSqliteBackups(OutboxDb.DatabaseName, Section, sp => sp.GetRequiredService<OutboxDb>().DatabasePath);
        builder.Services.AddHealthChecks().AddCheck<OutboxIntegrityHealthCheck>(
            "outbox-integrity", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(1));
        return builder;
    }

    public static WebApplication MapOutboxAdminEndpoints(this WebApplication app)
    {
        app.MapSqliteAdminEndpoints(OutboxDb.DatabaseName);
        return app;
    }
}
