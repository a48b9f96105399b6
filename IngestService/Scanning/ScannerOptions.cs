using System.ComponentModel.DataAnnotations;

namespace IngestService.Scanning;

/// <summary>What uploads get while the scanner cannot answer.</summary>
internal enum ScannerUnavailablePolicy
{
    /// <summary>Store the document as awaiting_scan (202); it is scanned, then processed or rejected, when clamd answers again.</summary>
    Hold,

    /// <summary>Refuse the upload with 503 scanner_unavailable and Retry-After; nothing is stored.</summary>
    Refuse,
}

/// <summary>The malware scan of every upload by clamd (section <c>Scanner</c>; clamd's address is <c>ConnectionStrings:clamav</c>).</summary>
internal sealed class ScannerOptions
{
    public const string Section = "Scanner";

    /// <summary>The connection string name the AppHost sets (<c>tcp://host:port</c>).</summary>
    public const string ConnectionName = "clamav";

    /// <summary>
    /// Off only for tests and development without clamd: uploads are then queued unscanned (recorded as not_scanned)
    /// and a warning is logged at start-up. On (the default), <c>ConnectionStrings:clamav</c> is required.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>clamd's address, <c>tcp://host:port</c>; read from <c>ConnectionStrings:clamav</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Budget of one scan (connect, stream the file, verdict); a clamd that does not answer in time counts as unavailable.</summary>
    [Range(100, 600_000, ErrorMessage = "Scanner:TimeoutMs must be from 100 to 600000.")]
    public int TimeoutMs { get; set; } = 30_000;

    /// <summary>Hold (default) or Refuse: what an upload gets while clamd cannot answer.</summary>
    public ScannerUnavailablePolicy WhenUnavailable { get; set; } = ScannerUnavailablePolicy.Hold;

    /// <summary>The breaker opens when at least this share of scans failed in the sampling window...</summary>
    [Range(0.01, 1.0, ErrorMessage = "Scanner:BreakerFailureRatio must be from 0.01 to 1.")]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>...and at least this many scans were made in it.</summary>
    [Range(2, 1000, ErrorMessage = "Scanner:BreakerMinimumThroughput must be from 2 to 1000.")]
    public int BreakerMinimumThroughput { get; set; } = 3;

    [Range(1, 3600, ErrorMessage = "Scanner:BreakerSamplingSeconds must be from 1 to 3600.")]
    public int BreakerSamplingSeconds { get; set; } = 30;

    /// <summary>How long an open breaker skips clamd (scans fail fast) before one scan probes it.</summary>
    [Range(1, 3600, ErrorMessage = "Scanner:BreakerBreakSeconds must be from 1 to 3600.")]
    public int BreakerBreakSeconds { get; set; } = 15;

    /// <summary>How often the held documents (awaiting_scan) are looked for and scanned when clamd answers.</summary>
    [Range(1, 3600, ErrorMessage = "Scanner:HeldPollSeconds must be from 1 to 3600.")]
    public int HeldPollSeconds { get; set; } = 5;

    /// <summary>Held documents scanned per poll, oldest first.</summary>
    [Range(1, 10_000, ErrorMessage = "Scanner:HeldBatchSize must be from 1 to 10000.")]
    public int HeldBatchSize { get; set; } = 20;

    /// <summary>Retry-After of a refused upload when the breaker is not open (else: until it lets a probe through).</summary>
    [Range(1, 3600, ErrorMessage = "Scanner:RefuseRetryAfterSeconds must be from 1 to 3600.")]
    public int RefuseRetryAfterSeconds { get; set; } = 15;

    public TimeSpan Timeout => TimeSpan.FromMilliseconds(TimeoutMs);
}
