using System.Diagnostics;
using System.Globalization;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Where jobs are worked on: {WorkDirectory}/{consumer}.{pid}/{documentId}. The process id in the name tells whose a
/// folder is, so a worker starting up can remove what crashed or killed workers left behind (their process is gone)
/// without touching a live worker's folder, even one of another suite sharing the same temp folder.
/// </summary>
internal static partial class WorkFolders
{
    public static string ProcessRoot(WorkerOptions options) =>
        Path.Combine(options.WorkDirectory, $"{options.ConsumerName}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");

    public static string ForDocument(WorkerOptions options, string documentId) =>
        JobProcessor.IsPlainDocumentId(documentId)
            ? Path.Combine(ProcessRoot(options), documentId)
            : throw new ArgumentException($"Document id '{documentId}' is not a plain name.", nameof(documentId));

    /// <summary>Removes the folders of worker processes that no longer exist; returns how many.</summary>
    public static int RemoveOrphans(WorkerOptions options, ILogger logger)
    {
        if (!Directory.Exists(options.WorkDirectory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(options.WorkDirectory))
        {
            var name = Path.GetFileName(folder);
            var dot = name.LastIndexOf('.');
            if (dot < 0 || !int.TryParse(name.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || pid == Environment.ProcessId || IsRunning(pid))
            {
                continue;
            }

            if (Delete(folder, logger))
            {
                LogOrphanRemoved(logger, folder, pid);
                removed++;
            }
        }

        return removed;
    }

    public static bool Delete(string path, ILogger logger)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
                return true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(logger, path, ex.Message);
        }

        return false;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the work folder {Path} of worker process {Pid}, which is gone")]
    private static partial void LogOrphanRemoved(ILogger logger, string path, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the work folder {Path}: {Error}")]
    private static partial void LogCleanupFailed(ILogger logger, string path, string error);
}
