using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Suite.ServiceDefaults.Resilience;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.PipelineWorker.Engines;

/// <summary>What to run: an executable (absolute path or name) and its arguments, never through a shell.</summary>
internal sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>Extra environment variables (e.g. OMP_THREAD_LIMIT=1 for tesseract).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>How much of standard output to keep (the rest is read and dropped); 0 keeps none.</summary>
    public int MaxStandardOutputBytes { get; init; }

    /// <summary>How much of standard error to keep for the error message.</summary>
    public int MaxStandardErrorBytes { get; init; } = 4096;
}

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed, bool OutputTruncated);

/// <summary>Why an external engine call did not produce a result.</summary>
internal enum EngineFailureKind
{
    /// <summary>The executable does not exist or cannot be started.</summary>
    NotFound,

    /// <summary>It ran longer than its timeout; its whole process group was killed.</summary>
    Timeout,

    /// <summary>It exited with a non-zero code or produced unusable output.</summary>
    Failed,

    /// <summary>Not called: the engine's circuit breaker is open after repeated failures.</summary>
    CircuitOpen,

    /// <summary>The engine works but refused the input (e.g. poppler cannot parse the PDF): a property of the file.</summary>
    Unreadable,
}

/// <summary>An engine call failed; the message includes the engine's captured standard error.</summary>
internal sealed class EngineException : Exception
{
    public EngineException(EngineFailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public EngineException()
        : this(EngineFailureKind.Failed, "The engine failed.")
    {
    }

    public EngineException(string message)
        : this(EngineFailureKind.Failed, message)
    {
    }

    public EngineException(string message, Exception innerException)
        : this(EngineFailureKind.Failed, message, innerException)
    {
    }

    public EngineFailureKind Kind { get; }
}

/// <summary>
/// Runs external programs (pdftoppm, tesseract) in one place: arguments as a list (no shell), the child in its
/// own session and process group (started through <c>setsid</c>), standard error captured (bounded) into the
/// error, and on timeout or cancellation the whole process group killed, so a program that forked helpers
/// leaves nothing behind. The group is also killed after a normal exit, for stray grandchildren.
/// </summary>
internal sealed partial class ProcessRunner(ILogger<ProcessRunner> logger, ResilienceMetrics? resilience = null)
{
    private static readonly Lazy<string?> Setsid = new(() => ExecutableLocator.Find("setsid", ["/usr/bin/setsid", "/bin/setsid"]));
    private static readonly Lazy<string?> Kill = new(() => ExecutableLocator.Find("kill", ["/usr/bin/kill", "/bin/kill"]));

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var name = Path.GetFileName(spec.FileName);
        var setsid = Setsid.Value;
        var start = new ProcessStartInfo
        {
            FileName = setsid ?? spec.FileName,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = spec.WorkingDirectory ?? "",
        };
        if (setsid is not null)
        {
            start.ArgumentList.Add(spec.FileName);
        }

        foreach (var argument in spec.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        if (setsid is not null && Path.IsPathRooted(spec.FileName) && !File.Exists(spec.FileName))
        {
            // setsid would start and then fail to exec; say "not found" the same way as without it.
            throw new EngineException(EngineFailureKind.NotFound, $"{name} was not found at {spec.FileName}.");
        }

        using var process = new Process { StartInfo = start };
        var clock = Stopwatch.StartNew();
        try
        {
            await OffThePoolAsync(process.Start);
        }
        catch (Win32Exception ex)
        {
            throw new EngineException(EngineFailureKind.NotFound, $"{name} could not be started: {ex.Message}", ex);
        }

        // setsid execs in place (the child is not a group leader), so the child's pid is its process group id.
        var groupId = setsid is not null ? process.Id : (int?)null;
        process.StandardInput.Close();
        var stdout = ReadBoundedAsync(process.StandardOutput.BaseStream, spec.MaxStandardOutputBytes);
        var stderr = ReadBoundedAsync(process.StandardError.BaseStream, spec.MaxStandardErrorBytes);

        using var timeoutCts = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        try
        {
            await process.WaitForExitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            await KillTreeAsync(process, groupId);
            var error = await CollectAsync(stderr);
            var timedOut = !cancellationToken.IsCancellationRequested;
            LogKilled(logger, name, process.Id, timedOut ? "timed out" : "cancelled", timedOut ? ErrorKinds.Timeout : "cancelled");
            cancellationToken.ThrowIfCancellationRequested();
            resilience?.Timeout(name, "subprocess");
            throw new EngineException(
                EngineFailureKind.Timeout,
                $"{name} did not finish within {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s and was killed with its process group{Suffix(error.Text)}");
        }

        // A normal exit can leave helpers behind in the group (holding our pipes open): end them too.
        if (groupId is { } group)
        {
            await KillGroupAsync(group);
        }

        var output = await CollectAsync(stdout);
        var errorText = await CollectAsync(stderr);
        return new ProcessResult(process.ExitCode, output.Text, errorText.Text, clock.Elapsed, output.Truncated);
    }

    /// <summary>The engine's error text for a message: bounded, one line.</summary>
    public static string Suffix(string stderr)
    {
        var text = stderr.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "." : $" (stderr: {(text.Length > 500 ? text[..500] + "..." : text)}).";
    }

    // Every wait below is asynchronous: this runs after each engine call (a page), on the thread pool that also
    // serves the worker's health probes, and a blocked pool thread per page is how starvation starts (Req HC-4).
    private async Task KillTreeAsync(Process process, int? groupId)
    {
        if (groupId is { } group)
        {
            await KillGroupAsync(group);
        }

        try
        {
            // Belt and braces: also the tree .NET can see (covers running without setsid).
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }

        if (!await ExitsWithinAsync(process, ReapTimeout))
        {
            LogNotReaped(logger, process.Id);
        }
    }

    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Starting a process forks and then waits until the child has exec'd (or failed to): on a machine whose cores
    /// the engines keep busy that wait is long, so it runs on a thread of its own, never on a pool thread.
    /// </summary>
    private static Task<T> OffThePoolAsync<T>(Func<T> start) =>
        Task.Factory.StartNew(start, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Waits for the exit without holding a thread; false when the process is still there after <paramref name="timeout"/>.</summary>
    private static async Task<bool> ExitsWithinAsync(Process process, TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL to every process of the group (kill -KILL -- -pgid).</summary>
    private async Task KillGroupAsync(int groupId)
    {
        if (Kill.Value is not { } kill)
        {
            return;
        }

        try
        {
            using var killer = await OffThePoolAsync(() => Process.Start(new ProcessStartInfo
            {
                FileName = kill,
                ArgumentList = { "-KILL", "--", "-" + groupId.ToString(CultureInfo.InvariantCulture) },
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            }));
            if (killer is not null && !await ExitsWithinAsync(killer, ReapTimeout))
            {
                killer.Kill();
            }
        }
        catch (Win32Exception ex)
        {
            LogKillFailed(logger, groupId, ex.Message);
        }
    }

    private sealed record Captured(string Text, bool Truncated);

    private static async Task<Captured> ReadBoundedAsync(Stream stream, int maxBytes)
    {
        var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var truncated = false;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            var room = maxBytes - (int)kept.Length;
            if (room > 0)
            {
                kept.Write(buffer, 0, Math.Min(room, read));
            }

            truncated |= read > room;
        }

        return new Captured(Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length), truncated && maxBytes > 0);
    }

    /// <summary>A reader ends when every holder of the pipe is gone; after a kill that is at once, but never wait long.</summary>
    private static async Task<Captured> CollectAsync(Task<Captured> reader)
    {
        try
        {
            return await reader.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            return new Captured("", true);
        }
        catch (IOException)
        {
            return new Captured("", true);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Engine} (pid {Pid}) {Why}: killed its process group ({ErrorKind})")]
    private static partial void LogKilled(ILogger logger, string engine, int pid, string why, string errorKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Process {Pid} did not exit within 5 s after SIGKILL")]
    private static partial void LogNotReaped(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not signal process group {Group}: {Error}")]
    private static partial void LogKillFailed(ILogger logger, int group, string error);
}

/// <summary>Finds executables the way a shell does (PATH), with well-known fallbacks for system tools.</summary>
internal static class ExecutableLocator
{
    public static string? Find(string nameOrPath, IEnumerable<string>? fallbacks = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, nameOrPath);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return fallbacks?.FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
