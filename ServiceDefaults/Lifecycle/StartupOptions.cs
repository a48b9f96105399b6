using System.ComponentModel.DataAnnotations;

namespace Suite.ServiceDefaults.Lifecycle;

/// <summary>How start-up steps are retried (section <c>Startup</c>): exponential backoff with jitter, without end.</summary>
public sealed class StartupOptions
{
    public const string Section = "Startup";

    /// <summary>Delay before the first retry of a failed step; it doubles from there.</summary>
    [Range(10, 60_000, ErrorMessage = "Startup:RetryDelayMs must be from 10 to 60000.")]
    public int RetryDelayMs { get; set; } = 500;

    /// <summary>The longest wait between two attempts.</summary>
    [Range(1, 3600, ErrorMessage = "Startup:MaxRetryDelaySeconds must be from 1 to 3600.")]
    public int MaxRetryDelaySeconds { get; set; } = 30;
}
