using System.ComponentModel.DataAnnotations;

namespace IngestService.Webhooks;

/// <summary>
/// Completion webhooks (section <c>Webhooks</c>, Req OUT-1): how often the outbox is looked at, each attempt's bounds,
/// the in-process retries of one delivery round (Polly), the schedule between rounds, the budget after which a delivery
/// is dead-lettered, the breaker per destination, and the default subscriptions every document's end is sent to.
/// The small values the tests use (a 200 ms poll, 1 s rounds) scale "down for a minute" down to seconds.
/// </summary>
internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Off: no delivery is attempted (notifications are still written to the outbox and wait).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the dispatcher looks for due deliveries.</summary>
    [Range(50, 60_000, ErrorMessage = "Webhooks:PollMilliseconds must be from 50 to 60000.")]
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Due deliveries taken per poll.</summary>
    [Range(1, 1000, ErrorMessage = "Webhooks:BatchSize must be from 1 to 1000.")]
    public int BatchSize { get; set; } = 50;

    /// <summary>Deliveries sent at once (to different or the same destinations).</summary>
    [Range(1, 64, ErrorMessage = "Webhooks:MaxConcurrency must be from 1 to 64.")]
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>TCP connect budget of one attempt.</summary>
    [Range(1, 60, ErrorMessage = "Webhooks:ConnectTimeoutSeconds must be from 1 to 60.")]
    public int ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>Budget of one attempt up to the receiver's status code.</summary>
    [Range(1, 120, ErrorMessage = "Webhooks:AttemptTimeoutSeconds must be from 1 to 120.")]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    /// <summary>Retries inside one round (Polly, exponential with jitter, Retry-After honoured); 0 turns them off.</summary>
    [Range(0, 5, ErrorMessage = "Webhooks:RetriesPerRound must be from 0 to 5.")]
    public int RetriesPerRound { get; set; } = 2;

    /// <summary>First in-round retry delay; doubles with jitter, capped at 10 s.</summary>
    [Range(1, 60_000, ErrorMessage = "Webhooks:RetryDelayMilliseconds must be from 1 to 60000.")]
    public int RetryDelayMilliseconds { get; set; } = 500;

    /// <summary>Wait before the second round; each later round waits twice as long (with jitter), up to MaxRoundDelaySeconds.</summary>
    [Range(1, 86_400, ErrorMessage = "Webhooks:RoundDelaySeconds must be from 1 to 86400.")]
    public int RoundDelaySeconds { get; set; } = 30;

    [Range(1, 86_400, ErrorMessage = "Webhooks:MaxRoundDelaySeconds must be from 1 to 86400.")]
    public int MaxRoundDelaySeconds { get; set; } = 3600;

    /// <summary>Attempts (HTTP requests, all rounds together) after which a delivery is dead-lettered.</summary>
    [Range(1, 1000, ErrorMessage = "Webhooks:MaxAttempts must be from 1 to 1000.")]
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Age after which a delivery not yet made is dead-lettered, whatever its attempts.</summary>
    [Range(1, 30 * 86_400, ErrorMessage = "Webhooks:MaxAgeSeconds must be from 1 to 2592000 (30 days).")]
    public int MaxAgeSeconds { get; set; } = 3 * 86_400;

    /// <summary>How long a delivery taken by one dispatcher is left to it before another (or the same after a restart) takes it again.</summary>
    [Range(1, 3600, ErrorMessage = "Webhooks:ClaimSeconds must be from 1 to 3600.")]
    public int ClaimSeconds { get; set; } = 120;

    /// <summary>Failures (ratio, of at least BreakerMinimumThroughput attempts in BreakerSamplingSeconds) that open a destination's breaker.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Webhooks:BreakerFailureRatio must be from 0.01 to 1.")]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Range(2, 1000, ErrorMessage = "Webhooks:BreakerMinimumThroughput must be from 2 to 1000.")]
    public int BreakerMinimumThroughput { get; set; } = 5;

    [Range(1, 3600, ErrorMessage = "Webhooks:BreakerSamplingSeconds must be from 1 to 3600.")]
    public int BreakerSamplingSeconds { get; set; } = 30;

    [Range(1, 3600, ErrorMessage = "Webhooks:BreakerBreakSeconds must be from 1 to 3600.")]
    public int BreakerBreakSeconds { get; set; } = 30;

    /// <summary>Destinations (hosts) with a breaker of their own at most; past it closed breakers are forgotten first.</summary>
    [Range(1, 100_000, ErrorMessage = "Webhooks:MaxDestinations must be from 1 to 100000.")]
    public int MaxDestinations { get; set; } = 1000;

    /// <summary>Default subscriptions by name: every document's end is also sent to each (<c>Webhooks:Subscriptions:{name}:Url</c>, <c>:Secret</c>).</summary>
    public Dictionary<string, WebhookSubscriptionOptions> Subscriptions { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan Poll => TimeSpan.FromMilliseconds(PollMilliseconds);

    public TimeSpan ConnectTimeout => TimeSpan.FromSeconds(ConnectTimeoutSeconds);

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    public TimeSpan RetryDelay => TimeSpan.FromMilliseconds(RetryDelayMilliseconds);

    public TimeSpan RoundDelay => TimeSpan.FromSeconds(RoundDelaySeconds);

    public TimeSpan MaxRoundDelay => TimeSpan.FromSeconds(MaxRoundDelaySeconds);

    public TimeSpan MaxAge => TimeSpan.FromSeconds(MaxAgeSeconds);

    public TimeSpan Claim => TimeSpan.FromSeconds(ClaimSeconds);
}

/// <summary>One default subscription: where to POST, and the Standard Webhooks secret (<c>whsec_</c> + base64 of 24 to 64 bytes) to sign with.</summary>
internal sealed class WebhookSubscriptionOptions
{
    public string Url { get; set; } = "";

    public string Secret { get; set; } = "";
}
