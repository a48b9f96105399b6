using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Suite.ServiceDefaults.Telemetry;

/// <summary>
/// Database backups (meter <c>Suite.Database</c>, beside <see cref="DatabaseMetrics"/>): every backup by outcome
/// (<c>suite.db.backups{db, outcome}</c>; Prometheus <c>suite_db_backups_total</c>; outcome success, failure, or
/// skipped when the database was not fit to copy), and how old the newest good backup is
/// (<c>suite.db.backup.age{db}</c>, seconds; Prometheus <c>suite_db_backup_age_seconds</c>). Before the first backup
/// the age counts from start-up, so a service that never manages one still ages into the stale-backup alert.
/// </summary>
public sealed class BackupMetrics
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Skipped = "skipped";

    private readonly Counter<long> _backups;
    private readonly ConcurrentDictionary<string, Func<double>> _ages = new(StringComparer.Ordinal);

    public BackupMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(DatabaseMetrics.MeterName);
        _backups = meter.CreateCounter<long>("suite.db.backups", "{backup}", "Database backups by database and outcome (success, failure, skipped)");
        meter.CreateObservableGauge("suite.db.backup.age", ObserveAges, "s", "Seconds since the database's last successful backup (since start-up while it has none)");
    }

    /// <summary>Reports <paramref name="ageSeconds"/> as the backup age of database <paramref name="database"/>.</summary>
    public void Track(string database, Func<double> ageSeconds) => _ages[database] = ageSeconds;

    public void Backup(string database, string outcome) =>
        _backups.Add(1, new KeyValuePair<string, object?>("db", database), new KeyValuePair<string, object?>("outcome", outcome));

    private IEnumerable<Measurement<double>> ObserveAges() =>
        _ages.Select(a => new Measurement<double>(a.Value(), new KeyValuePair<string, object?>("db", a.Key))).ToList();
}
