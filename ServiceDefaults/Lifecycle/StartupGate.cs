using System.Globalization;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// Where start-up is: every step with its state, why the running one's last attempt failed, or the step that failed for
/// good. The runner (<see cref="StartupRunner"/>) writes it; readiness (check <c>startup</c>) and tests read it.
/// </summary>
public sealed class StartupGate
{
    private readonly Lock _lock = new();
    private readonly List<StepProgress> _steps;
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ownStepsSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _failure;

    public StartupGate(IEnumerable<IStartupStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        _steps = [.. steps.Select(s => new StepProgress(s))];
        Settle();
    }

    /// <summary>Every step is done.</summary>
    public bool IsReady
    {
        get
        {
            lock (_lock)
            {
                return _failure is null && _steps.All(s => s.State == StepState.Done);
            }
        }
    }

    /// <summary>A step failed for good; start-up stopped there.</summary>
    public bool HasFailed
    {
        get
        {
            lock (_lock)
            {
                return _failure is not null;
            }
        }
    }

    /// <summary>Completes when every step is done or one failed for good.</summary>
    public Task WhenSettled => _settled.Task;

    /// <summary>
    /// Completes when the service's own steps are done or one failed for good; steps that wait for an outside
    /// dependency (<see cref="IStartupStep.WaitsForDependency"/>) may still be waiting.
    /// </summary>
    public Task WhenOwnStepsSettled => _ownStepsSettled.Task;

    /// <summary>
    /// For a background loop that needs what the start-up steps prepare (a database opened and migrated): waits until
    /// the service's own steps are done; false when start-up stopped at one of them (the loop should not run then).
    /// </summary>
    public async Task<bool> OwnStepsDoneAsync(CancellationToken cancellationToken)
    {
        await WhenOwnStepsSettled.WaitAsync(cancellationToken);
        return !HasFailed;
    }

    /// <summary>
    /// For readiness and logs: "ready", "start-up failed at checking storage: ...", or "starting: checking storage
    /// (attempt 3 failed: ...; next attempt in 4 s)".
    /// </summary>
    public string Describe()
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                return _failure;
            }

            var open = _steps.Where(s => s.State != StepState.Done).ToList();
            if (open.Count == 0)
            {
                return "ready";
            }

            // The steps under way; before the runner began, the first one it will run.
            var running = open.Where(s => s.State == StepState.Running).ToList();
            return "starting: " + string.Join("; ", (running.Count > 0 ? running : open.Take(1)).Select(s => s.Headline()));
        }
    }

    /// <summary>Each step and its state, in order ("done in 12 ms", "running", "pending", "failed: ...").</summary>
    public IReadOnlyDictionary<string, object> Steps()
    {
        lock (_lock)
        {
            var steps = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var step in _steps)
            {
                steps.TryAdd(step.Step.Name, step.Status());
            }

            return steps;
        }
    }

    internal void Begin(IStartupStep step) => Update(step, s => s.State = StepState.Running);

    internal void AttemptFailed(IStartupStep step, int attempt, string error, TimeSpan nextAttemptIn) => Update(step, s =>
    {
        s.FailedAttempts = attempt;
        s.LastError = error;
        s.NextAttemptIn = nextAttemptIn;
    });

    internal void Complete(IStartupStep step, TimeSpan took) => Update(step, s =>
    {
        s.State = StepState.Done;
        s.Took = took;
    });

    internal void Fail(IStartupStep step, string reason) => Update(step, s =>
    {
        s.State = StepState.Failed;
        s.LastError = reason;
        _failure ??= $"start-up failed at {step.Name}: {reason}";
    });

    private void Update(IStartupStep step, Action<StepProgress> change)
    {
        lock (_lock)
        {
            change(_steps.Single(s => ReferenceEquals(s.Step, step)));
        }

        Settle();
    }

    private void Settle()
    {
        bool all, own;
        lock (_lock)
        {
            all = _failure is not null || _steps.All(s => s.State == StepState.Done);
            own = all || _steps.Where(s => !s.Step.WaitsForDependency).All(s => s.State == StepState.Done);
        }

        if (own)
        {
            _ownStepsSettled.TrySetResult();
        }

        if (all)
        {
            _settled.TrySetResult();
        }
    }

    private enum StepState
    {
        Pending,
        Running,
        Done,
        Failed,
    }

    private sealed class StepProgress(IStartupStep step)
    {
        public IStartupStep Step { get; } = step;

        public StepState State { get; set; }

        public int FailedAttempts { get; set; }

        public string? LastError { get; set; }

        public TimeSpan NextAttemptIn { get; set; }

        public TimeSpan Took { get; set; }

        /// <summary>The step's name, with why its last attempt failed while it is being retried.</summary>
        public string Headline() => FailedAttempts > 0 && State == StepState.Running
            ? string.Create(CultureInfo.InvariantCulture,
                $"{Step.Name} (attempt {FailedAttempts} failed: {LastError}; next attempt in {Math.Max(1, Math.Ceiling(NextAttemptIn.TotalSeconds)):F0} s)")
            : Step.Name;

        public string Status() => State switch
        {
            StepState.Done => string.Create(CultureInfo.InvariantCulture, $"done in {Took.TotalMilliseconds:F0} ms"),
            StepState.Failed => $"failed: {LastError}",
            StepState.Running when FailedAttempts > 0 => string.Create(CultureInfo.InvariantCulture, $"retrying (attempt {FailedAttempts} failed: {LastError})"),
            StepState.Running => "running",
            _ => "pending",
        };
    }
}
