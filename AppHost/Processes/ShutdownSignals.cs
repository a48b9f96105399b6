using System.Runtime.InteropServices;

namespace Suite.AppHost.Processes;

/// <summary>
/// Ctrl+C, SIGINT and SIGTERM: the first one starts a graceful stop (the runtime's default termination is
/// cancelled so the AppHost can stop its children first); a second one (a moment later) kills what is left at once.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    /// <summary>One key press can arrive twice (to the process and to its group): repeats this close count once.</summary>
    private static readonly TimeSpan RepeatGrace = TimeSpan.FromSeconds(1);

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _gate = new();
    private DateTimeOffset? _first;
    private bool _escalated;

    private ShutdownSignals(Action<string> onFirst, Action<string> onAgain)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                var name = context.Signal.ToString();
                Action<string>? action;
                lock (_gate)
                {
                    var now = DateTimeOffset.UtcNow;
                    action = _first is null ? onFirst : !_escalated && now - _first >= RepeatGrace ? onAgain : null;
                    _escalated |= _first is not null && action is not null;
                    _first ??= now;
                }

                // Off the signal thread: stopping awaits, and cancellation callbacks may run inline.
                if (action is not null)
                {
                    _ = Task.Run(() => action(name));
                }
            }));
        }
    }

    public static ShutdownSignals Register(Action<string> onFirst, Action<string> onAgain) => new(onFirst, onAgain);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
