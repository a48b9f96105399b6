using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Telemetry;

namespace Suite.PipelineWorker.Jobs;

/// <summary>How the worker consumes jobs and how long it lets stages run (section <c>Worker</c>).</summary>
internal sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>
    /// This worker's consumer name in the group. Stable across restarts so a restarted replica finds its own
    /// pending entries (the AppHost sets <c>pipeline-worker-{i}</c>); defaults to host name and process id.
    /// </summary>
    public string ConsumerName { get; set; } = "";

    /// <summary>First delay after an empty poll; doubles up to <see cref="PollMaxDelayMs"/>.</summary>
    public int PollMinDelayMs { get; set; } = 50;

    public int PollMaxDelayMs { get; set; } = 1000;

    /// <summary>
    /// An entry idle (unacknowledged) this long is taken over by XAUTOCLAIM: its worker is presumed dead. A live worker
    /// renews its entry and its lease every min(5 s, this / 3), so a long stage is never taken from under it.
    /// </summary>
    public int VisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>How often to look for entries abandoned by dead workers.</summary>
    public int ReclaimIntervalSeconds { get; set; } = 5;

    /// <summary>Longest a single stage may run before it is cancelled (a transient failure: retried with backoff).</summary>
    public int StageTimeoutSeconds { get; set; } = 60;

    /// <summary>Per-stage overrides of <see cref="StageTimeoutSeconds"/>, e.g. <c>Worker:StageTimeouts:ocr=180</c>.</summary>
    public Dictionary<string, int> StageTimeouts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Longest one attempt at a document may take (all stages and transfers); then it fails with code <c>timeout</c>.</summary>
    public int DocumentBudgetSeconds { get; set; } = 600;

    /// <summary>A job delivered more often than this (crashes, reclaims and transient failures together) is dead-lettered.</summary>
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>Delay before the first retry after a transient failure; doubles per attempt up to <see cref="RetryMaxDelayMs"/>, with jitter.</summary>
    public int RetryBaseDelayMs { get; set; } = 10_000;

    public int RetryMaxDelayMs { get; set; } = 300_000;

    /// <summary>
    /// Anti-starvation (Req LS-2): a batch job that has waited this long (since it entered its stream) is taken before
    /// interactive ones, on at most every other claim of a worker while interactive jobs wait.
    /// </summary>
    public int BatchMaxWaitSeconds { get; set; } = 300;

    /// <summary>
    /// Smallest time between two page progress reports of a stage to IngestService (the latest count wins; 0 switches them
    /// off). IngestService bounds the events it keeps again (Events:ProgressIntervalMs).
    /// </summary>
    public int ProgressIntervalMs { get; set; } = 1000;

    /// <summary>Where jobs are worked on: {WorkDirectory}/{consumer}.{pid}/{documentId}. Default: {temp}/suite-worker.</summary>
    public string WorkDirectory { get; set; } = "";

    public TimeSpan PollMinDelay => TimeSpan.FromMilliseconds(PollMinDelayMs);

    public TimeSpan ProgressInterval => TimeSpan.FromMilliseconds(ProgressIntervalMs);

    public TimeSpan PollMaxDelay => TimeSpan.FromMilliseconds(PollMaxDelayMs);

    public TimeSpan VisibilityTimeout => TimeSpan.FromSeconds(VisibilityTimeoutSeconds);

    public TimeSpan ReclaimInterval => TimeSpan.FromSeconds(ReclaimIntervalSeconds);

    public TimeSpan StageTimeout => TimeSpan.FromSeconds(StageTimeoutSeconds);

    public TimeSpan StageTimeoutFor(string stage) =>
        StageTimeouts.TryGetValue(stage, out var seconds) ? TimeSpan.FromSeconds(seconds) : StageTimeout;

    /// <summary>How often a running job renews its lease in IngestService and its entry in Redis.</summary>
    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(Math.Min(5.0, VisibilityTimeoutSeconds / 3.0));

    public TimeSpan RetryBaseDelay => TimeSpan.FromMilliseconds(RetryBaseDelayMs);

    public TimeSpan RetryMaxDelay => TimeSpan.FromMilliseconds(RetryMaxDelayMs);

    public TimeSpan DocumentBudget => TimeSpan.FromSeconds(DocumentBudgetSeconds);

    public TimeSpan BatchMaxWait => TimeSpan.FromSeconds(BatchMaxWaitSeconds);
}

internal static partial class WorkerOptionsRegistration
{
    /// <summary>Binds <see cref="WorkerOptions"/> once, with the defaults filled in and validated at start-up.</summary>
    public static IServiceCollection AddWorkerOptions(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<WorkerOptions>)))
        {
            return services;
        }

        // Under Aspire each replica has its own service.instance.id, kept when the replica is restarted, so the consumer
        // name names the replica (pipeline-worker-<id>, as the dashboard shows it); standalone, host and process id.
        static string DefaultConsumerName(IConfiguration configuration) =>
            configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } service && TelemetryExtensions.AppHostInstanceId(configuration) is { } instance
                ? $"{service}-{instance}"
                : $"{Environment.MachineName}-{Environment.ProcessId}";

        services.AddOptions<WorkerOptions>()
            .Bind(configuration.GetSection(WorkerOptions.Section))
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.ConsumerName))
                {
                    o.ConsumerName = DefaultConsumerName(configuration);
                }

                if (string.IsNullOrWhiteSpace(o.WorkDirectory))
                {
                    o.WorkDirectory = Path.Combine(Path.GetTempPath(), "suite-worker");
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
        return services;
    }

    private sealed partial class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
    {
        public ValidateOptionsResult Validate(string? name, WorkerOptions options)
        {
            var errors = new List<string>();
            if (!ConsumerNamePattern().IsMatch(options.ConsumerName))
            {
                errors.Add($"Worker:ConsumerName '{options.ConsumerName}' must be 1-100 letters, digits, '.', '_' or '-' (it names the Redis consumer and a temp folder).");
            }

            Range(errors, "PollMinDelayMs", options.PollMinDelayMs, 1, 60_000);
            Range(errors, "PollMaxDelayMs", options.PollMaxDelayMs, 1, 60_000);
            if (options.PollMaxDelayMs < options.PollMinDelayMs)
            {
                errors.Add("Worker:PollMaxDelayMs must be at least Worker:PollMinDelayMs.");
            }

            Range(errors, "VisibilityTimeoutSeconds", options.VisibilityTimeoutSeconds, 1, 86_400);
            Range(errors, "ReclaimIntervalSeconds", options.ReclaimIntervalSeconds, 1, 3_600);
            Range(errors, "StageTimeoutSeconds", options.StageTimeoutSeconds, 1, 86_400);
            Range(errors, "DocumentBudgetSeconds", options.DocumentBudgetSeconds, 1, 86_400);
            if (options.DocumentBudgetSeconds < options.StageTimeoutSeconds)
            {
                errors.Add("Worker:DocumentBudgetSeconds must be at least Worker:StageTimeoutSeconds.");
            }

            foreach (var (stage, seconds) in options.StageTimeouts)
            {
                Range(errors, $"StageTimeouts:{stage}", seconds, 1, 86_400);
            }

            Range(errors, "MaxDeliveries", options.MaxDeliveries, 1, 1000);
            Range(errors, "BatchMaxWaitSeconds", options.BatchMaxWaitSeconds, 1, 604_800);
            Range(errors, "RetryBaseDelayMs", options.RetryBaseDelayMs, 1, 3_600_000);
            Range(errors, "RetryMaxDelayMs", options.RetryMaxDelayMs, 1, 86_400_000);
            Range(errors, "ProgressIntervalMs", options.ProgressIntervalMs, 0, 600_000);
            if (options.RetryMaxDelayMs < options.RetryBaseDelayMs)
            {
                errors.Add("Worker:RetryMaxDelayMs must be at least Worker:RetryBaseDelayMs.");
            }

            if (!Path.IsPathFullyQualified(options.WorkDirectory))
            {
                errors.Add($"Worker:WorkDirectory '{options.WorkDirectory}' must be an absolute path.");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        private static void Range(List<string> errors, string key, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                errors.Add($"Worker:{key} is {value}; it must be between {min} and {max}.");
            }
        }

        [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
        private static partial Regex ConsumerNamePattern();
    }
}
