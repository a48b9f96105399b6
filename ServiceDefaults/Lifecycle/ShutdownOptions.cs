using System.ComponentModel.DataAnnotations;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>How a service stops after SIGTERM (section <c>Shutdown</c>).</summary>
public sealed class ShutdownOptions : IValidatableObject
{
    public const string Section = "Shutdown";

    /// <summary>
    /// The whole stop: drain window, in-flight requests, background services, closing the databases
    /// (<c>HostOptions.ShutdownTimeout</c>). Below Kubernetes' default grace of 30 s, so the service ends by itself before
    /// it would be killed.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "Shutdown:TimeoutSeconds must be from 1 to 3600.")]
    public int TimeoutSeconds { get; set; } = 25;

    /// <summary>
    /// After SIGTERM, how long the server keeps listening while readiness answers 503 and new requests are refused
    /// with 503 <c>shutting_down</c>, so a load balancer sees the service leave before its connections are refused.
    /// Default 2 s; 0 in the Development and Testing environments (see <see cref="DefaultDrainSeconds"/>).
    /// </summary>
    [Range(0, 300, ErrorMessage = "Shutdown:DrainSeconds must be from 0 to 300.")]
    public int DrainSeconds { get; set; } = 2;

    /// <summary>
    /// Under the AppHost (Development) and in tests (Testing) nothing in front of a service watches its readiness, and
    /// DCP kills a process that has not exited some 6 s after its SIGTERM: a drain there would only slow every stop.
    /// </summary>
    public static int DefaultDrainSeconds(string environmentName) =>
        string.Equals(environmentName, "Development", StringComparison.OrdinalIgnoreCase)
        || string.Equals(environmentName, "Testing", StringComparison.OrdinalIgnoreCase) ? 0 : 2;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DrainSeconds >= TimeoutSeconds)
        {
            yield return new ValidationResult(
                "Shutdown:DrainSeconds must be shorter than Shutdown:TimeoutSeconds: the drain window is part of the shutdown time, " +
                "and in-flight requests need the rest.",
                [nameof(DrainSeconds)]);
        }
    }
}
