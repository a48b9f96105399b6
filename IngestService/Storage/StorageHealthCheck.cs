using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Storage;

/// <summary>Readiness: the storage folders exist; reports the free space of the root's file system.</summary>
internal sealed class StorageHealthCheck(BlobStore blobs) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var missing = new[] { blobs.UploadsDir, blobs.ResultsDir, blobs.CheckpointsDir, blobs.TempDir }.Where(d => !Directory.Exists(d)).ToList();
        var data = new Dictionary<string, object> { ["root"] = blobs.Root };
        try
        {
            data["freeBytes"] = new DriveInfo(blobs.Root).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            data["freeBytesError"] = ex.Message;
        }

        if (!blobs.IsPresent)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus,
                $"the storage root {blobs.Root} is not the one the service started on (marker file missing): is the volume mounted?", data: data));
        }

        return Task.FromResult(missing.Count == 0
            ? HealthCheckResult.Healthy("storage folders present", data)
            : new HealthCheckResult(context.Registration.FailureStatus, "storage folders missing: " + string.Join(", ", missing), data: data));
    }
}
