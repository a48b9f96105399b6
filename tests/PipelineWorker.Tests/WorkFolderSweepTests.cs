using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Suite.PipelineWorker.Jobs;

namespace PipelineWorker.Tests;

/// <summary>Work folders of worker processes that are gone are removed; a live worker's folder stays.</summary>
public sealed class WorkFolderSweepTests
{
    [Fact]
    [Trait("Req", "FS-1")]
    public async Task The_folder_of_a_dead_worker_process_is_removed_and_a_live_ones_stays()
    {
        var workDirectory = Directory.CreateTempSubdirectory("work-folders-").FullName;
        try
        {
            using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            await gone.WaitForExitAsync();
            using var alive = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
            try
            {
                var deadFolder = Folder(workDirectory, "pipeline-worker-a", gone.Id);
                var liveFolder = Folder(workDirectory, "pipeline-worker-b", alive.Id);
                var options = new WorkerOptions { WorkDirectory = workDirectory, ConsumerName = "pipeline-worker-c" };

                Assert.Equal(1, WorkFolders.RemoveOrphans(options, NullLogger.Instance));

                Assert.False(Directory.Exists(deadFolder));
                Assert.True(Directory.Exists(liveFolder));
            }
            finally
            {
                alive.Kill();
            }
        }
        finally
        {
            Directory.Delete(workDirectory, recursive: true);
        }
    }

    private static string Folder(string workDirectory, string consumer, int pid)
    {
        var folder = Path.Combine(workDirectory, consumer + "." + pid.ToString(CultureInfo.InvariantCulture), "0123456789abcdef0123456789abcdef");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "page-1.png"), "left behind");
        return Path.GetDirectoryName(folder)!;
    }
}
