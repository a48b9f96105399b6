namespace Suite.AppHost.Hosting;

public enum ReplicaState
{
    /// <summary>Not launched yet.</summary>
    Pending,

    /// <summary>Waiting for the resources it WaitFor's to be healthy.</summary>
    Waiting,

    /// <summary>Launched, not healthy yet in this run.</summary>
    Starting,

    /// <summary>Launched and has been healthy in this run (health may change since).</summary>
    Running,

    /// <summary>Exited unexpectedly; relaunching after the backoff delay.</summary>
    Restarting,

    Stopping,

    /// <summary>Stopped on request (the app stopped, or StopReplicaAsync holds it down).</summary>
    Stopped,

    /// <summary>Exited unexpectedly and is not restarted (restart on exit is off).</summary>
    Exited,
}

public enum ResourceHealth
{
    Unknown,
    Healthy,
    Unhealthy,
}

/// <summary>One process of a resource, as seen by its supervisor at one moment.</summary>
public sealed record ReplicaInfo(
    string Resource,
    int Index,
    string InstanceName,
    ReplicaState State,
    ResourceHealth Health,
    string? HealthDetail,
    int? ProcessId,
    int Restarts,
    int? LastExitCode,
    DateTimeOffset? StartedAt,
    Uri Url)
{
    public bool IsHealthy => State == ReplicaState.Running && Health == ResourceHealth.Healthy;
}
