using System.Diagnostics;

namespace Suite.Testing;

/// <summary>
/// A real file-system mount for fault tests (the tests run as root): a small tmpfs that can be filled, remounted
/// read-only and back, or laid over a folder so that the folder looks empty (a volume that vanished) until it is
/// unmounted again. Disposing unmounts it (lazily if a process still holds files on it).
/// </summary>
public sealed class Mount : IDisposable
{
    private bool _mounted;

    private Mount(string path)
    {
        Path = path;
        _mounted = true;
    }

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="sizeMiB"/> MiB at <paramref name="path"/> (created if needed).</summary>
    public static Mount Tmpfs(string path, int sizeMiB)
    {
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m,mode=0755", "tmpfs", path);
        return new Mount(path);
    }

    /// <summary>Lays an empty tmpfs over <paramref name="path"/>: what was there is hidden (open files keep working).</summary>
    public static Mount HideContentsOf(string path) => Tmpfs(path, 4);

    public void RemountReadOnly() => Run("mount", "-o", "remount,ro", Path);

    public void RemountReadWrite() => Run("mount", "-o", "remount,rw", Path);

    /// <summary>Writes zeros to a file on the mount until the file system is full; returns the filler's path.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler-" + Guid.NewGuid().ToString("N"));
        var chunk = new byte[64 * 1024];
        try
        {
            using var stream = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            while (true)
            {
                stream.Write(chunk);
                stream.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Whatever the last write got stays in the file.
        }

        return filler;
    }

    public void Unmount()
    {
        if (!_mounted)
        {
            return;
        }

        if (!TryRun("umount", Path))
        {
            Run("umount", "-l", Path);
        }

        _mounted = false;
    }

    public void Dispose() => Unmount();

    private static void Run(params string[] args)
    {
        if (!TryRun(args, out var error))
        {
            throw new InvalidOperationException($"{string.Join(' ', args)} failed: {error}");
        }
    }

    private static bool TryRun(params string[] args) => TryRun(args, out _);

    private static bool TryRun(string[] args, out string error)
    {
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
