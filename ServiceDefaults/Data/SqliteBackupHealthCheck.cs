using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Readiness check <c>backups</c>: when each database was last backed up. Degraded (still 200) once the newest
/// good backup is older than two intervals, never Unhealthy: a missing backup is an operator's problem, not a
/// reason to take the service out of rotation. Before the first backup the clock starts at start-up plus the
/// first delay.
/// </summary>
internal sealed class SqliteBackupHealthCheck(IEnumerable<SqliteBackups> databases, TimeProvider time) : IHealthCheck
{
    public const string Name = "backups";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var stale = new List<string>();
        var lines = new List<string>();
        foreach (var db in databases)
        {
            var status = db.Status;
            var options = db.Options;
            data[db.Name + ".enabled"] = options.Enabled;
            data[db.Name + ".folder"] = db.Folder.Folder;
            if (status.LastBackup is { } last)
            {
                data[db.Name + ".lastBackupAt"] = last.TakenAt.ToString("O", CultureInfo.InvariantCulture);
                data[db.Name + ".lastBackupFile"] = last.FileName;
                data[db.Name + ".lastBackupAgeSeconds"] = Math.Round((now - last.TakenAt).TotalSeconds, 1);
            }

            if (status.LastError is { } error && status.LastFailureAt > status.LastSuccessAt.GetValueOrDefault())
            {
                data[db.Name + ".lastError"] = error;
            }

            if (!options.Enabled)
            {
                lines.Add($"{db.Name}: periodic backups off");
                continue;
            }

            var due = (status.LastSuccessAt ?? db.StartedAt + options.FirstBackupDelay) + 2 * options.Interval;
            if (now > due)
            {
                stale.Add(db.Name);
                lines.Add(status.LastSuccessAt is { } at
                    ? $"{db.Name}: last backup {Math.Round((now - at).TotalMinutes)} min ago, more than two intervals"
                    : $"{db.Name}: no backup since start-up, more than two intervals");
            }
            else
            {
                lines.Add(status.LastBackup is { } backup ? $"{db.Name}: last backup {backup.FileName}" : $"{db.Name}: first backup pending");
            }
        }

        var description = string.Join("; ", lines);
        return Task.FromResult(stale.Count == 0
            ? HealthCheckResult.Healthy(description, data)
            : HealthCheckResult.Degraded(description, data: data));
    }
}
