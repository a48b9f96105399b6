using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Admission;

/// <summary>
/// Admission's levels, limits and refusals in the readiness details. Shedding is Degraded, not Unhealthy: the service
/// still serves reads and worker traffic, and is meant to stay in rotation while it refuses new uploads.
/// </summary>
internal sealed class AdmissionHealthCheck(AdmissionControl admission) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        AdmissionLevels levels;
        try
        {
            levels = await admission.MeasureAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The catalog's own check reports why; admission only says it cannot measure.
            return HealthCheckResult.Healthy("Queue depth unknown: " + ex.Message);
        }

        var limits = admission.Limits;
        var data = new Dictionary<string, object>
        {
            ["queuedDocuments"] = levels.QueuedDocuments,
            ["maxQueuedDocuments"] = limits.MaxQueuedDocuments,
            ["freeDiskBytes"] = levels.FreeDiskBytes,
            ["minFreeDiskBytes"] = limits.MinFreeDiskBytes,
            ["memoryLoadPercent"] = levels.MemoryLoadPercent,
            ["maxMemoryLoadPercent"] = limits.MaxMemoryLoadPercent,
            ["refusals"] = admission.Refusals.ToDictionary(r => r.Key, r => r.Value),
        };
        if (admission.LastRefusal is { } last)
        {
            data["lastRefusal"] = last.Code;
            data["lastRefusalAt"] = last.At;
        }

        var shedding = new List<string>();
        if (levels.MemoryLoadPercent > limits.MaxMemoryLoadPercent)
        {
            shedding.Add("memory_pressure");
        }

        if (levels.FreeDiskBytes < limits.MinFreeDiskBytes)
        {
            shedding.Add("disk_space_low");
        }

        if (levels.QueuedDocuments >= limits.MaxQueuedDocuments)
        {
            shedding.Add("queue_full");
        }

        data["shedding"] = shedding;
        return shedding.Count == 0
            ? HealthCheckResult.Healthy("Accepting uploads.", data)
            : HealthCheckResult.Degraded($"Refusing new uploads: {string.Join(", ", shedding)}.", data: data);
    }
}
