using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Suite.AppHost.Processes;

/// <summary>What to run for one replica: the same program, arguments and environment on every restart.</summary>
internal sealed record ProcessSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// Starts children so that none outlives the AppHost and a terminal's Ctrl+C reaches only the AppHost:
/// <list type="bullet">
/// <item><c>setsid</c> (util-linux) gives each child its own session, so the terminal's SIGINT goes to the
/// AppHost alone, which then stops the children in reverse dependency order.</item>
/// <item><c>setpriv --pdeathsig TERM</c> (util-linux) asks the kernel to send SIGTERM to the child when the
/// AppHost dies, even by SIGKILL.</item>
/// </list>
/// Both exec the real program in place: same pid, same arguments, same environment. Where one is missing the
/// child starts without it. PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so every
/// child is forked from one long-lived launcher thread rather than from pool threads that come and go.
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<LaunchRequest> Requests = [];
    private static readonly string? Setsid = Executables.FindOnPath("setsid");
    private static readonly string? Setpriv = Executables.FindOnPath("setpriv");

    static ProcessLauncher() => StartLaunchThread();

    /// <summary>Whether children are tied to the AppHost's life (reported once at start-up).</summary>
    public static bool ChildrenDieWithAppHost => Setpriv is not null;

    public static Task<Process> StartAsync(ProcessSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new LaunchRequest(CreateStartInfo(spec), new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously));
        Requests.Add(request);
        return request.Completion.Task;
    }

    private static ProcessStartInfo CreateStartInfo(ProcessSpec spec)
    {
        var command = new List<string>();
        if (Setsid is not null)
        {
            command.Add(Setsid);
        }

        if (Setpriv is not null)
        {
            command.AddRange([Setpriv, "--pdeathsig", "TERM"]);
        }

        command.Add(spec.FileName);
        command.AddRange(spec.Arguments);

        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = spec.WorkingDirectory,
        };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    private static void StartLaunchThread()
    {
        var thread = new Thread(() =>
        {
            foreach (var request in Requests.GetConsumingEnumerable())
            {
                try
                {
                    var process = Process.Start(request.StartInfo)
                        ?? throw new InvalidOperationException($"{request.StartInfo.FileName} did not start.");
                    request.Completion.SetResult(process);
                }
                catch (Exception ex) // any launch failure belongs to the caller waiting for this process
                {
                    request.Completion.SetException(ex);
                }
            }
        })
        {
            IsBackground = true,
            Name = "apphost-launcher",
        };
        thread.Start();
    }

    private sealed record LaunchRequest(ProcessStartInfo StartInfo, TaskCompletionSource<Process> Completion);
}
