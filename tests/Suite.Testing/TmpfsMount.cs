using System.Diagnostics;

namespace Suite.Testing;

/// <summary>
/// A small tmpfs mounted on a fresh temp folder (tests run as root), for storage that a test can make read-only or
/// fill up for real. Unmounted and removed on dispose.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount Create(int sizeMiB)
    {
        var path = Directory.CreateTempSubdirectory("suite-tmpfs-").FullName;
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mount -t tmpfs on {path} failed ({code}): {error}");
        }

        return new TmpfsMount(path);
    }

    /// <summary>
    /// Remounts read-only. Linux refuses that (EBUSY) while any file on the mount is open for writing, and every SQLite
    /// connection keeps its database open for writing: so <paramref name="releaseFiles"/> (say, clearing the connection
    /// pools) runs before each try, and the remount is tried until it succeeds or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task RemountReadOnlyAsync(Action releaseFiles, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(releaseFiles);
        var clock = Stopwatch.StartNew();
        var (code, error) = (-1, "not tried");
        while (clock.Elapsed < timeout)
        {
            releaseFiles();
            (code, error) = Run("mount", "-o", "remount,ro", Path);
            if (code == 0)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"remount {Path} read-only did not succeed within {timeout.TotalSeconds:F0} s ({code}): {error}");
    }

    public void RemountWritable()
    {
        var (code, error) = Run("mount", "-o", "remount,rw", Path);
        if (code != 0)
        {
            throw new InvalidOperationException($"remount {Path} read-write failed ({code}): {error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Run("mount", "-o", "remount,rw", Path);
        for (var attempt = 0; attempt < 20 && Run("umount", Path).Code != 0; attempt++)
        {
            await Task.Delay(100);
        }

        // Still busy (a file left open): detach it anyway so no mount outlives the test run.
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Error) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Trim());
    }
}
