using System.Diagnostics;

namespace Suite.Testing;

/// <summary>
/// A small tmpfs mounted on a fresh temp folder (tests run as root), for storage that a test can make read-only or
/// fill up for real. Unmounted and removed on dispose.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    private TmpfsMount(string path, bool ownsFolder)
    {
        Path = path;
        _ownsFolder = ownsFolder;
    }

    public string Path { get; }

    public static TmpfsMount Create(int sizeMiB) => MountAt(Directory.CreateTempSubdirectory("suite-tmpfs-").FullName, sizeMiB, ownsFolder: true);

    /// <summary>A tmpfs that starts read-only (storage that cannot be written from the first moment).</summary>
    public static TmpfsMount CreateReadOnly(int sizeMiB)
    {
        var mount = Create(sizeMiB);
        var (code, error) = Run("mount", "-o", "remount,ro", mount.Path);
        return code == 0 ? mount : throw new InvalidOperationException($"remount {mount.Path} read-only failed ({code}): {error}");
    }

    /// <summary>
    /// Lays an empty tmpfs over an existing folder: what was there is hidden (files already open keep working), as
    /// when a volume is unmounted and leaves its empty mount point; disposing brings the folder's contents back.
    /// </summary>
    public static TmpfsMount HideContentsOf(string folder) => MountAt(folder, 4, ownsFolder: false);

    private static TmpfsMount MountAt(string path, int sizeMiB, bool ownsFolder)
    {
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m", "tmpfs", path);
        if (code != 0)
        {
            if (ownsFolder)
            {
                Directory.Delete(path);
            }

            throw new InvalidOperationException($"mount -t tmpfs on {path} failed ({code}): {error}");
        }

        return new TmpfsMount(path, ownsFolder);
    }

    /// <summary>Writes zeros to a new file on the mount until the file system has no space left; returns its path.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler-" + Guid.NewGuid().ToString("N"));
        using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        foreach (var size in new[] { 64 * 1024, 512 })
        {
            // Big chunks first, then small ones so that the last bytes fill too.
            var chunk = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(chunk);
                }
            }
            catch (IOException)
            {
                // ENOSPC
            }
        }

        return filler;
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
        if (!_ownsFolder)
        {
            return;
        }

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
