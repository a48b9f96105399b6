using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Suite.AppHost.Hosting;

namespace Suite.AppHost.Processes;

/// <summary>Everything fixed about one replica for the AppHost's lifetime: a restart reuses port, command and env.</summary>
internal sealed record ReplicaPlan(
    Resource Resource,
    int Index,
    int Port,
    Uri Url,
    ProcessSpec Spec,
    IHealthProbe Probe,
    bool RestartOnExit)
{
    public string InstanceName => $"{Resource.Name}-{Index}";
}

/// <summary>
/// Launches one replica, watches its health and restarts it with exponential backoff when it exits
/// unexpectedly. A stop (of the app, or a hold-down by StopReplicaAsync) is SIGTERM, then SIGKILL after the
/// stop timeout.
/// </summary>
internal sealed class ReplicaSupervisor
{
    private static readonly TimeSpan StartingProbeInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RunningProbeInterval = TimeSpan.FromSeconds(1);

    private readonly ReplicaPlan _plan;
    private readonly TimeSpan _stopTimeout;
    private readonly ILogger _logger;
    private readonly ConsoleEcho? _echo;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _gate = new();

    private ReplicaState _state = ReplicaState.Pending;
    private ResourceHealth _health = ResourceHealth.Unknown;
    private string? _healthDetail;
    private Process? _process;
    private int _restarts;
    private int? _lastExitCode;
    private DateTimeOffset? _startedAt;
    private DateTimeOffset? _healthySince;
    private bool _exitExpected;
    private TaskCompletionSource? _heldDown;
    private Task? _loop;

    public ReplicaSupervisor(ReplicaPlan plan, TimeSpan stopTimeout, ILogger logger, ConsoleEcho? echo, int logCapacity = 2000)
    {
        _plan = plan;
        _stopTimeout = stopTimeout;
        _logger = logger;
        _echo = echo;
        Logs = new LogBuffer(logCapacity);
    }

    public ReplicaPlan Plan => _plan;

    public LogBuffer Logs { get; }

    public ReplicaInfo Snapshot()
    {
        lock (_gate)
        {
            return new ReplicaInfo(_plan.Resource.Name, _plan.Index, _plan.InstanceName, _state, _health, _healthDetail,
                _process?.Id, _restarts, _lastExitCode, _startedAt, _plan.Url);
        }
    }

    public void MarkWaiting() => SetState(ReplicaState.Waiting);

    /// <summary>Begins supervision: launch now, relaunch after unexpected exits.</summary>
    public void Start()
    {
        lock (_gate)
        {
            _loop ??= Task.Run(SuperviseAsync);
        }
    }

    /// <summary>Completes once the replica is running and healthy (polled every 250 ms).</summary>
    public async Task WaitUntilHealthyAsync(CancellationToken cancellationToken)
    {
        while (!Snapshot().IsHealthy)
        {
            await Task.Delay(StartingProbeInterval, cancellationToken);
        }
    }

    /// <summary>From now on an exit is expected and nothing is restarted (the app is stopping).</summary>
    public void BeginShutdown()
    {
        lock (_gate)
        {
            _exitExpected = true;
        }

        _shutdown.Cancel();
    }

    /// <summary>Stops the replica for good: SIGTERM, SIGKILL after the stop timeout, and the supervisor ends.</summary>
    public async Task StopAsync()
    {
        BeginShutdown();
        Process? process;
        Task? loop;
        lock (_gate)
        {
            process = _process;
            loop = _loop;
        }

        if (process is not null)
        {
            await TerminateAsync(process);
        }

        if (loop is not null)
        {
            await loop;
        }

        SetState(ReplicaState.Stopped);
    }

    /// <summary>SIGKILL, as a crash: the supervisor treats it as an unexpected exit. Returns once the exit is seen.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        Process process;
        lock (_gate)
        {
            process = _process ?? throw new InvalidOperationException($"{_plan.InstanceName} has no running process to kill (state {_state}).");
        }

        var pid = process.Id;
        PosixSignals.Send(pid, Signal.Kill);
        while (Snapshot().ProcessId == pid)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Stops the replica gracefully and keeps it down until <see cref="Release"/>.</summary>
    public async Task HoldDownAsync(CancellationToken cancellationToken)
    {
        Process? process;
        lock (_gate)
        {
            _heldDown ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _exitExpected = true;
            process = _process;
        }

        if (process is not null)
        {
            await TerminateAsync(process);
        }

        while (Snapshot().State is not (ReplicaState.Stopped or ReplicaState.Exited))
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Lets a held-down replica run again (same port, same environment).</summary>
    public void Release()
    {
        TaskCompletionSource? heldDown;
        lock (_gate)
        {
            heldDown = _heldDown;
            _heldDown = null;
        }

        heldDown?.TrySetResult();
    }

    /// <summary>SIGKILL now, without waiting (a second Ctrl+C).</summary>
    public void KillNow()
    {
        lock (_gate)
        {
            if (_process is { } process)
            {
                PosixSignals.Send(process.Id, Signal.Kill);
            }
        }
    }

    private async Task SuperviseAsync()
    {
        var backoff = new RestartBackoff();
        while (!_shutdown.IsCancellationRequested)
        {
            Task? heldDown;
            lock (_gate)
            {
                heldDown = _heldDown?.Task;
            }

            if (heldDown is not null)
            {
                SetState(ReplicaState.Stopped);
                if (!await WaitQuietlyAsync(heldDown.WaitAsync(_shutdown.Token)))
                {
                    break;
                }

                continue;
            }

            var exit = await RunOnceAsync();
            if (_shutdown.IsCancellationRequested || exit.Expected)
            {
                SetState(ReplicaState.Stopped);
                continue;
            }

            var restart = _plan.RestartOnExit;
            if (!restart)
            {
                Log.ExitedForGood(_logger, _plan.InstanceName, exit.Code);
                AddOwnLine($"exited with code {exit.Code}; restart on exit is off");
                SetState(ReplicaState.Exited);
                break;
            }

            var delay = backoff.Next(exit.HealthyFor);
            int restarts;
            lock (_gate)
            {
                restarts = ++_restarts;
                _state = ReplicaState.Restarting;
            }

            Log.Restarting(_logger, _plan.InstanceName, exit.Code, restarts, delay.TotalSeconds);
            AddOwnLine($"exited with code {exit.Code}; restart #{restarts} in {delay.TotalSeconds:F0} s");
            if (!await WaitQuietlyAsync(Task.Delay(delay, _shutdown.Token)))
            {
                break;
            }
        }

        lock (_gate)
        {
            if (_state != ReplicaState.Exited)
            {
                _state = ReplicaState.Stopped;
            }
        }
    }

    /// <summary>One run: launch, pump output, probe health until the process exits.</summary>
    private async Task<RunExit> RunOnceAsync()
    {
        Process process;
        SetState(ReplicaState.Starting);
        try
        {
            process = await ProcessLauncher.StartAsync(_plan.Spec);
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            Log.LaunchFailed(_logger, _plan.InstanceName, ex.Message);
            AddOwnLine($"could not be launched: {ex.Message}");
            return new RunExit(-1, TimeSpan.Zero, Expected: false);
        }

        bool stopAtOnce;
        lock (_gate)
        {
            _process = process;
            _startedAt = DateTimeOffset.UtcNow;
            _healthySince = null;
            _health = ResourceHealth.Unknown;
            _healthDetail = null;
            _exitExpected = _shutdown.IsCancellationRequested || _heldDown is not null;
            stopAtOnce = _exitExpected;
        }

        Log.Launched(_logger, _plan.InstanceName, process.Id, _plan.Url);
        AddOwnLine($"launched: pid {process.Id}, {_plan.Url}");
        var output = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
        if (stopAtOnce)
        {
            _ = TerminateAsync(process);
        }

        using var run = new CancellationTokenSource();
        var monitor = MonitorHealthAsync(process, run.Token);
        await process.WaitForExitAsync();
        await run.CancelAsync();
        await WaitQuietlyAsync(monitor);

        // A grandchild holding the pipes open must not keep the supervisor from restarting.
        await WaitQuietlyAsync(output.WaitAsync(TimeSpan.FromSeconds(2)));

        var code = process.ExitCode;
        RunExit exit;
        lock (_gate)
        {
            exit = new RunExit(code, _healthySince is { } since ? DateTimeOffset.UtcNow - since : TimeSpan.Zero, _exitExpected);
            _process = null;
            _lastExitCode = code;
            _health = ResourceHealth.Unknown;
            _healthDetail = "process exited";
            _healthySince = null;
            _exitExpected = false;
        }

        process.Dispose();
        if (exit.Expected)
        {
            Log.Stopped(_logger, _plan.InstanceName, code);
            AddOwnLine($"stopped (exit code {code})");
        }

        return exit;
    }

    private async Task MonitorHealthAsync(Process process, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            HealthResult result;
            try
            {
                result = await _plan.Probe.CheckAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A probe that breaks must not end supervision: it counts as unhealthy.
                result = new HealthResult(false, $"{ex.GetType().Name}: {ex.Message}");
            }

            bool becameHealthy = false, becameUnhealthy = false;
            double sinceLaunch = 0;
            lock (_gate)
            {
                if (!ReferenceEquals(_process, process) || cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                var wasHealthy = _health == ResourceHealth.Healthy;
                _health = result.Healthy ? ResourceHealth.Healthy : ResourceHealth.Unhealthy;
                _healthDetail = result.Detail;
                if (result.Healthy && _healthySince is null)
                {
                    _healthySince = DateTimeOffset.UtcNow;
                    sinceLaunch = (_healthySince - _startedAt)?.TotalSeconds ?? 0;
                    becameHealthy = true;
                    if (_state == ReplicaState.Starting)
                    {
                        _state = ReplicaState.Running;
                    }
                }
                else if (!result.Healthy)
                {
                    _healthySince = null;
                    becameUnhealthy = wasHealthy && !_exitExpected;
                }
            }

            if (becameHealthy)
            {
                Log.BecameHealthy(_logger, _plan.InstanceName, result.Detail, sinceLaunch);
                AddOwnLine($"healthy ({result.Detail})");
            }
            else if (becameUnhealthy)
            {
                Log.BecameUnhealthy(_logger, _plan.InstanceName, result.Detail);
                AddOwnLine($"unhealthy ({result.Detail})");
            }

            await Task.Delay(result.Healthy ? RunningProbeInterval : StartingProbeInterval, cancellationToken);
        }
    }

    /// <summary>SIGTERM, then SIGKILL once the stop timeout has passed.</summary>
    private async Task TerminateAsync(Process process)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_process, process))
            {
                _state = ReplicaState.Stopping;
            }
        }

        try
        {
            if (process.HasExited)
            {
                return;
            }

            var pid = process.Id;
            PosixSignals.Send(pid, Signal.Terminate);
            using var timeout = new CancellationTokenSource(_stopTimeout);
            if (await WaitQuietlyAsync(process.WaitForExitAsync(timeout.Token)))
            {
                return;
            }

            Log.StopTimedOut(_logger, _plan.InstanceName, _stopTimeout.TotalSeconds);
            AddOwnLine($"did not stop within {_stopTimeout.TotalSeconds:F0} s of SIGTERM; SIGKILL");
            PosixSignals.Send(pid, Signal.Kill);
            await process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // The run ended and released the process meanwhile: it is gone already.
        }
    }

    private async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                Logs.Add(line);
                _echo?.Write(_plan.InstanceName, line);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe closed with the process.
        }
    }

    /// <summary>The supervisor's own events go into the replica's log too, so a timeout report shows them.</summary>
    private void AddOwnLine(string text) =>
        Logs.Add($"[apphost {DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)}] {text}");

    private void SetState(ReplicaState state)
    {
        lock (_gate)
        {
            _state = state;
        }
    }

    /// <summary>Awaits a task; false when it was cancelled or timed out (normal ends of a wait here).</summary>
    private static async Task<bool> WaitQuietlyAsync(Task task)
    {
        try
        {
            await task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private readonly record struct RunExit(int Code, TimeSpan HealthyFor, bool Expected);
}
