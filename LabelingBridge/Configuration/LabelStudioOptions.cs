namespace LabelingBridge.Configuration;

/// <summary>How the bridge reaches Label Studio (section <c>LabelStudio</c>). Validated at start-up.</summary>
public sealed class LabelStudioOptions
{
    public const string Section = "LabelStudio";

    /// <summary>Off (the default until a deployment configures Label Studio): export endpoints answer 503 <c>label_studio_disabled</c> and nothing talks to Label Studio (DEG-6).</summary>
    public bool Enabled { get; set; }

    /// <summary>Base URL of the Label Studio instance, e.g. http://label-studio:8080.</summary>
    public Uri? Url { get; set; }

    /// <summary>A legacy API token (sent as <c>Token</c>) or a Personal Access Token (a JWT refresh token, exchanged for access tokens). Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Title of the project the bridge creates once and reuses.</summary>
    public string ProjectTitle { get; set; } = "Suite document layout";

    public LabelStudioTimeouts Timeouts { get; set; } = new();

    public LabelStudioRetry Retry { get; set; } = new();

    public LabelStudioBreaker Breaker { get; set; } = new();

    /// <summary>Bulkhead: at most this many requests to Label Studio at once; others wait in a bounded queue.</summary>
    public int MaxConcurrentRequests { get; set; } = 4;

    public int MaxQueuedRequests { get; set; } = 32;

    /// <summary>While Label Studio rejects the credentials, one probe request per this interval; nothing else is sent.</summary>
    public double CredentialProbeIntervalSeconds { get; set; } = 30;

    public TimeSpan CredentialProbeInterval => TimeSpan.FromSeconds(CredentialProbeIntervalSeconds);
}

public sealed class LabelStudioTimeouts
{
    public double ConnectSeconds { get; set; } = 5;

    /// <summary>One HTTP attempt.</summary>
    public double AttemptSeconds { get; set; } = 10;

    /// <summary>One operation with all its retries and their waits; no retry waits past it.</summary>
    public double TotalSeconds { get; set; } = 60;

    public TimeSpan Connect => TimeSpan.FromSeconds(ConnectSeconds);
    public TimeSpan Attempt => TimeSpan.FromSeconds(AttemptSeconds);
    public TimeSpan Total => TimeSpan.FromSeconds(TotalSeconds);
}

public sealed class LabelStudioRetry
{
    /// <summary>Retries after the first attempt, within one operation.</summary>
    public int MaxRetries { get; set; } = 3;

    public double BaseDelayMilliseconds { get; set; } = 200;

    public double MaxDelaySeconds { get; set; } = 30;
}

public sealed class LabelStudioBreaker
{
    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 5;

    public double SamplingDurationSeconds { get; set; } = 10;

    public double BreakDurationSeconds { get; set; } = 30;
}
