using System.Diagnostics;

namespace Suite.Testing;

/// <summary>
/// A small tmpfs mounted on a fresh folder, read-only or writable, for tests of storage that cannot be written. Tests
/// run as root, whom file permissions do not stop: only a read-only mount makes a folder unwritable for real.
/// Remounting turns it writable (or read-only) in place, as an operator fixing a mount would.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    public static async Task<TmpfsMount> MountAsync(bool readOnly, int sizeMegabytes = 16)
    {
        var path = Directory.CreateTempSubdirectory("suite-tmpfs-").FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={sizeMegabytes}m,{(readOnly ? "ro" : "rw")}", "tmpfs", path);
        return new TmpfsMount(path);
    }

    public Task RemountAsync(bool readOnly) => RunAsync("mount", "-o", $"remount,{(readOnly ? "ro" : "rw")}", Path);

    public async ValueTask DisposeAsync()
    {
        // Lazy: a process that still holds a file open in it does not keep the mount.
        await RunAsync("umount", "-l", Path);
        Directory.Delete(Path, recursive: true);
    }

    private static async Task RunAsync(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{command} did not start");
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(patience.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{command} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await errors}" +
                " (mounting needs root, as the tests run in CI)");
        }
    }
}
