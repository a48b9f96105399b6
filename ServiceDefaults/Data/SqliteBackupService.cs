using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// Takes one database's periodic backups: first <see cref="SqliteBackupOptions.FirstBackupDelay"/> after start-up
/// has finished (so the service's own start-up check and migrations have run), then every
/// <see cref="SqliteBackupOptions.Interval"/>. A failed or skipped backup is logged and counted by
/// <see cref="SqliteBackups"/> and simply tried again at the next interval: nothing here may disturb the service.
/// </summary>
internal sealed partial class SqliteBackupService(
    SqliteBackups backups,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<SqliteBackupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = backups.Options;
        if (!options.Enabled)
        {
            LogDisabled(backups.Name);
            return;
        }

        try
        {
            backups.RemoveStaleTemps();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogSweepFailed(backups.Name, backups.Folder.Folder, ex.Message);
        }

        try
        {
            await StartedAsync(stoppingToken);
            await Task.Delay(options.FirstBackupDelay, time, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await backups.BackupNowAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Already logged and counted (failure or skipped) by SqliteBackups; the next interval tries again.
                }

                await Task.Delay(options.Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Completes once every hosted service has started (the database has been checked and migrated).</summary>
    private async Task StartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Periodic backups of the {Database} database are switched off (Enabled=false)")]
    private partial void LogDisabled(string database);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove stale temp files of {Database} backups in {Folder}: {Error}")]
    private partial void LogSweepFailed(string database, string folder, string error);
}
