using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Suite.ServiceDefaults.Telemetry;

/// <summary>
/// Database errors (meter <c>Suite.Database</c>, counter <c>suite.db.errors{db, code, kind}</c>; Prometheus
/// <c>suite_db_errors_total</c>): every SQLite error a service's database layer sees, with the primary result code
/// (5 BUSY, 6 LOCKED, 11 CORRUPT, 13 FULL, 26 NOTADB, ...) and its kind (busy, corrupt, full, other), whether it was
/// retried away or not; every statement executed (<c>suite.db.statements{db}</c>), where a request's cost shows; and the
/// connections open now (gauge <c>suite.db.connections{db}</c>), which the access layer bounds (Req DB-6).
/// </summary>
public sealed class DatabaseMetrics
{
    public const string MeterName = "Suite.Database";

    private readonly Counter<long> _errors;
    private readonly Counter<long> _statements;
    private readonly ConcurrentDictionary<string, Func<int>> _openConnections = new(StringComparer.Ordinal);

    public DatabaseMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _errors = meter.CreateCounter<long>("suite.db.errors", "{error}", "Database errors by database, SQLite result code and kind");
        _statements = meter.CreateCounter<long>("suite.db.statements", "{statement}", "SQL statements executed, by database");
        meter.CreateObservableGauge(
            "suite.db.connections",
            () => _openConnections.Select(d => new Measurement<int>(d.Value(), new KeyValuePair<string, object?>("db", d.Key))),
            "{connection}",
            "Connections open now, by database");
    }

    /// <summary>Reports <paramref name="openConnections"/> as the database's connection gauge from now on.</summary>
    public void ObserveConnections(string database, Func<int> openConnections) => _openConnections[database] = openConnections;

    public void Statement(string database) => _statements.Add(1, new KeyValuePair<string, object?>("db", database));

    public void Error(string database, int sqliteErrorCode)
    {
        var primary = sqliteErrorCode & 0xFF;
        var kind = primary switch
        {
            5 or 6 => "busy",
            11 or 26 => "corrupt",
            13 => "full",
            _ => "other",
        };
        _errors.Add(
            1,
            new KeyValuePair<string, object?>("db", database),
            new KeyValuePair<string, object?>("code", primary.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, object?>(ErrorKinds.Label, kind));
    }
}
