using Suite.ServiceDefaults.Lifecycle;

namespace IngestService.Storage;

/// <summary>
/// On stop, removes the temp files under {Storage:Root}/tmp (and the *.tmp beside results and checkpoints). It runs in
/// StoppedAsync, after every hosted service's StopAsync, and so after the web server, which stops first and lets the
/// uploads in flight finish: what is left then belongs to no request. (Start-up removes leftovers of a crash too.)
/// </summary>
internal sealed partial class TempFilesCleanupOnStop(BlobStore blobs, StorageState state, ILogger<TempFilesCleanupOnStop> logger) : OnStoppedWork
{
    public override Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (!state.IsReady)
        {
            return Task.CompletedTask;
        }

        try
        {
            LogRemoved(blobs.RemoveOrphanedTempFiles(), blobs.TempDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Never fail the stop: start-up removes them next time.
            LogFailed(ex.Message);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: removed {Removed} temp files ({TempDir} and *.tmp under results and checkpoints)")]
    private partial void LogRemoved(int removed, string tempDir);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: temp files could not be removed; start-up removes them: {Error}")]
    private partial void LogFailed(string error);
}
