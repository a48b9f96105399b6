namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>
/// One thing a service does before it is ready (check its storage, open its database, connect to Redis). Steps run in
/// the background after the web server listens, so liveness answers from the first moment while readiness says which
/// step start-up is at. They run in the order they were registered; a failed attempt is retried with backoff unless it
/// throws <see cref="StartupFailedException"/>.
/// </summary>
public interface IStartupStep
{
    /// <summary>What the step does, as readiness and the logs show it: "checking storage".</summary>
    string Name { get; }

    /// <summary>
    /// True for a step that waits for an outside dependency the service tolerates losing (Redis): it runs beside the
    /// others, which do not need it, and only holds back "ready".
    /// </summary>
    bool WaitsForDependency => false;

    /// <summary>One attempt. Throwing retries it later (with backoff); <see cref="StartupFailedException"/> ends start-up.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
