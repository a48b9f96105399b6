using Microsoft.Extensions.Hosting;

namespace IngestService.Storage;

/// <summary>Creates the storage folders before anything else starts; a root that cannot be written stops start-up.</summary>
internal sealed partial class StorageInitializer(BlobStore blobs, ILogger<StorageInitializer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        blobs.Initialize();
        var removed = blobs.RemoveOrphanedTempFiles();
        LogReady(blobs.Root, removed);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage root {Root} ready; removed {Removed} orphaned temp files")]
    private partial void LogReady(string root, int removed);
}
