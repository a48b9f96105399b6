using Suite.ServiceDefaults.Lifecycle;

namespace IngestService.Storage;

/// <summary>
/// Start-up step, first of the service's own: creates the storage folders, proves the root writable and removes temp
/// files a crash left. A root that cannot be written (missing permissions, a read-only mount) does not stop the
/// process: the step is retried with backoff, readiness says why (naming Storage:Root and the path), requests that need
/// storage answer 503 storage_unavailable, and start-up goes on by itself once the folder is writable.
/// </summary>
internal sealed partial class StorageInitializer(BlobStore blobs, StorageState state, ILogger<StorageInitializer> logger) : IStartupStep
{
    public string Name => "checking storage";

    public Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            blobs.Initialize();
        }
        catch (InvalidOperationException ex)
        {
            state.MarkUnavailable(ex.Message);
            throw;
        }

        // Nothing can be uploading yet (storage was not ready), so every temp file is an orphan of a crash.
        var removed = blobs.RemoveOrphanedTempFiles();
        state.MarkReady();
        LogReady(blobs.Root, removed);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage root {Root} ready; removed {Removed} orphaned temp files")]
    private partial void LogReady(string root, int removed);
}
