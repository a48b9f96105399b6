using System.Runtime.InteropServices;

namespace Suite.AppHost.Processes;

internal enum Signal
{
    Interrupt = 2,
    Kill = 9,
    Terminate = 15,
}

/// <summary>kill(2): .NET's Process.Kill only sends SIGKILL, and a graceful stop needs SIGTERM.</summary>
internal static partial class PosixSignals
{
    /// <summary>True when the signal was delivered (false when the process is already gone).</summary>
    public static bool Send(int processId, Signal signal) => NativeKill(processId, (int)signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int NativeKill(int pid, int signal);
}
