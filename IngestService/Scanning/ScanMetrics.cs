using System.Diagnostics.Metrics;
using IngestService.Api;
using Suite.ServiceDefaults.Resilience;

namespace IngestService.Scanning;

/// <summary>
/// The malware scan's metrics (meter <c>Suite.IngestService</c>, Req OBS-3):
/// <list type="bullet">
/// <item><c>ingest.scans{outcome}</c>: scans by outcome (clean, infected, unavailable, not_scanned);</item>
/// <item><c>ingest.scan.duration{outcome}</c> (s): how long a scan took;</item>
/// <item><c>ingest.scan.held</c>: documents awaiting their scan, as counted by the last poll of the held-document scanner.</item>
/// </list>
/// Scanner timeouts are also counted in <c>suite.timeouts{dependency="clamav", operation="scan"}</c>; the breaker's
/// state is <c>suite.circuit_breaker.state{dependency="clamav"}</c>.
/// </summary>
internal sealed class ScanMetrics
{
    private readonly Counter<long> _scans;
    private readonly Histogram<double> _duration;
    private readonly ResilienceMetrics _resilience;
    private long _held = -1;

    public ScanMetrics(IMeterFactory meterFactory, ResilienceMetrics resilience)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _resilience = resilience;
        var meter = meterFactory.Create(IngestTelemetry.Name);
        _scans = meter.CreateCounter<long>("ingest.scans", "{scan}", "Malware scans by outcome");
        _duration = meter.CreateHistogram<double>("ingest.scan.duration", "s", "Duration of malware scans, by outcome");
        meter.CreateObservableGauge("ingest.scan.held", () =>
            Interlocked.Read(ref _held) is var held and >= 0 ? [new Measurement<long>(held)] : Array.Empty<Measurement<long>>(),
            "{document}", "Documents awaiting their malware scan");
    }

    /// <summary>Documents awaiting their scan at the last count; -1 before the first.</summary>
    public long Held => Interlocked.Read(ref _held);

    public void Scanned(string outcome, double seconds)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _scans.Add(1, tag);
        if (seconds > 0)
        {
            _duration.Record(seconds, tag);
        }
    }

    public void Timeout() => _resilience.Timeout(MalwareScanner.Dependency, "scan");

    public void SetHeld(long count) => Interlocked.Exchange(ref _held, count);
}
