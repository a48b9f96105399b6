using Suite.ServiceDefaults.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// Readiness: the external engines and the optional dependencies' breakers. A missing engine or an open breaker
/// makes the worker Degraded (200), never unready: documents still complete without them (SU-4, HC-3, CB-4).
/// </summary>
internal sealed class EngineHealthCheck(EngineRegistry engines, CircuitBreakerStates breakers, IOptions<DescribeOptions> describe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var statuses = await engines.AllAsync().WaitAsync(cancellationToken);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var engine in statuses)
        {
            data[engine.Name] = engine.Available ? $"{engine.Version} ({engine.Path})" : "unavailable: " + engine.Problem;
            if (!engine.Available)
            {
                problems.Add(engine.Unavailable);
            }
        }

        data["vision"] = describe.Value.IsConfigured ? "configured" : "not configured (describe stage skipped)";
        foreach (var breaker in breakers.Snapshot())
        {
            data["breaker." + breaker.Dependency] = breaker.StateName;
            if (breaker.State == BreakerState.Open)
            {
                problems.Add($"the {breaker.Dependency} circuit breaker is open");
            }
        }

        return problems.Count == 0
            ? HealthCheckResult.Healthy("pdftoppm, tesseract, pdftotext and pdfinfo available; breakers closed", data)
            : HealthCheckResult.Degraded(string.Join("; ", problems) + " (documents complete without them, marked degraded)", data: data);
    }
}
