using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Catalog;

/// <summary>Readiness: the catalog passed its start-up check and still answers a read.</summary>
internal sealed class CatalogHealthCheck(CatalogDb db, CatalogState state) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = state.Current;
        var data = new Dictionary<string, object>
        {
            ["path"] = db.Path,
            ["quickCheck"] = snapshot.QuickCheck ?? "not run",
        };
        if (snapshot.SchemaVersion is { } version)
        {
            data["schemaVersion"] = version;
        }

        if (!snapshot.Available)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, snapshot.Description, data: data);
        }

        try
        {
            await db.ReadAsync(async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1 FROM documents LIMIT 1;";
                return await command.ExecuteScalarAsync(ct);
            }, cancellationToken);
            return HealthCheckResult.Healthy("catalog answers", data);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or CatalogUnavailableException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "catalog read failed: " + ex.Message, data: data);
        }
    }
}
