using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IngestService.Storage;

/// <summary>Readiness: the storage root was checked writable and its folders exist; reports the free space of its file system.</summary>
internal sealed class StorageHealthCheck(BlobStore blobs, StorageState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["root"] = blobs.Root };
        if (!state.IsReady)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, state.Description, data: data));
        }

        var missing = new[] { blobs.UploadsDir, blobs.ResultsDir, blobs.CheckpointsDir, blobs.TempDir }.Where(d => !Directory.Exists(d)).ToList();
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
