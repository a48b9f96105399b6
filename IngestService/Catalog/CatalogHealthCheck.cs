using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Catalog;

/// <summary>
/// Readiness: the catalog passed its start-up check and still answers a read. In read-only mode (writes failed
/// repeatedly, Req CB-5) it is Degraded, still ready since reads work, and says why and when writes are tried again.
/// </summary>
internal sealed class CatalogHealthCheck(CatalogDb db, CatalogState state, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = state.Current;
        var data = new Dictionary<string, object>
        {
            ["path"] = db.Path,
            ["quickCheck"] = snapshot.QuickCheck ?? "not run",
            ["openConnections"] = db.Database.OpenConnections,
            ["maxConnections"] = db.Database.MaxConnections,
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
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or CatalogUnavailableException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "catalog read failed: " + ex.Message, data: data);
        }

        data["readOnly"] = db.Database.ReadOnly is not null;
        if (db.Database.ReadOnly is not { } readOnly)
        {
            return HealthCheckResult.Healthy("catalog answers", data);
        }

        var retryAfter = readOnly.RetryAfter(time.GetUtcNow());
        data["retryAfterSeconds"] = (int)retryAfter.TotalSeconds;
        data["diskFull"] = readOnly.DiskFull;
        data["readOnlySince"] = readOnly.Since;
        return HealthCheckResult.Degraded(
            $"the catalog is read-only because writes failed: {readOnly.Reason}. Reads work; writes are refused until a probe write " +
            $"succeeds (next in {(int)retryAfter.TotalSeconds} s).",
            data: data);
    }
}
