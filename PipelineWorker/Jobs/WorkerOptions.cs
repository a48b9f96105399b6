using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

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

    /// <summary>An entry idle (unacknowledged) this long is taken over by XAUTOCLAIM: its worker is presumed dead.</summary>
    public int VisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>How often to look for entries abandoned by dead workers.</summary>
    public int ReclaimIntervalSeconds { get; set; } = 5;

    /// <summary>Longest a single stage may run before it is cancelled.</summary>
    public int StageTimeoutSeconds { get; set; } = 60;

    /// <summary>Longest the whole document may take (all stages and transfers).</summary>
    public int DocumentBudgetSeconds { get; set; } = 600;

    public TimeSpan PollMinDelay => TimeSpan.FromMilliseconds(PollMinDelayMs);

    public TimeSpan PollMaxDelay => TimeSpan.FromMilliseconds(PollMaxDelayMs);

    public TimeSpan VisibilityTimeout => TimeSpan.FromSeconds(VisibilityTimeoutSeconds);

    public TimeSpan ReclaimInterval => TimeSpan.FromSeconds(ReclaimIntervalSeconds);

    public TimeSpan StageTimeout => TimeSpan.FromSeconds(StageTimeoutSeconds);

    public TimeSpan DocumentBudget => TimeSpan.FromSeconds(DocumentBudgetSeconds);
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

        services.AddOptions<WorkerOptions>()
            .Bind(configuration.GetSection(WorkerOptions.Section))
            .PostConfigure(o =>
            {
                if (string.IsNullOrWhiteSpace(o.ConsumerName))
                {
                    o.ConsumerName = $"{Environment.MachineName}-{Environment.ProcessId}";
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
