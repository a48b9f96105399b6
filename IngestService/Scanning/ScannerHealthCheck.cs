using Microsoft.Extensions.Diagnostics.HealthChecks;
using Suite.ServiceDefaults.Resilience;

namespace IngestService.Scanning;

/// <summary>
/// Readiness detail of the malware scanner (Req HC-3, CB-4): a real PING to clamd (2 s at most) and the breaker state.
/// clamd down or the breaker open is Degraded, never unready: status, results, cancel and (under policy Hold) uploads
/// keep working, and held documents are scanned when it returns.
/// </summary>
internal sealed class ScannerHealthCheck(MalwareScanner scanner, ScanMetrics metrics) : IHealthCheck
{
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["policy"] = scanner.Policy.ToString(),
            ["breaker"] = BreakerSnapshot.NameOf(scanner.BreakerState),
        };
        if (metrics.Held >= 0)
        {
            data["awaitingScan"] = metrics.Held;
        }

        if (!scanner.Enabled)
        {
            data["scanning"] = "off";
            return HealthCheckResult.Healthy("malware scanning is switched off (Scanner:Enabled=false): uploads are queued unscanned", data);
        }

        data["endpoint"] = scanner.Endpoint!.ToString();
        var problem = await scanner.PingAsync(PingTimeout, cancellationToken);
        if (problem is null && scanner.BreakerState != BreakerState.Open)
        {
            return HealthCheckResult.Healthy("clamd answers PING", data);
        }

        var why = problem ?? "the clamav circuit breaker is open after repeated scan failures";
        var effect = scanner.Policy == ScannerUnavailablePolicy.Hold
            ? "uploads are held as awaiting_scan and scanned when it is back"
            : "uploads are refused with 503 scanner_unavailable until it is back";
        return HealthCheckResult.Degraded($"{why}; {effect}", data: data);
    }
}
