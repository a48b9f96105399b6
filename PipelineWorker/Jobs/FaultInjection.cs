using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// Faults the chaos tests land at exact stages: crash the process (<see cref="Environment.FailFast(string)"/>), slow a
/// stage down, or fail it transiently, for documents whose file name matches. Off by default and impossible to turn
/// on by accident: it needs <c>FaultInjection:Enabled=true</c> AND the environment variable
/// <c>SUITE_ALLOW_FAULT_INJECTION=1</c>, and start-up refuses it in the Production environment.
/// </summary>
internal sealed class FaultInjectionOptions
{
    public const string Section = "FaultInjection";

    /// <summary>The environment variable that must be "1" as well.</summary>
    public const string AllowVariable = "SUITE_ALLOW_FAULT_INJECTION";

    public bool Enabled { get; set; }

    /// <summary>Rules from configuration (<c>FaultInjection:Rules:0:Stage</c> …).</summary>
    public List<FaultRule> Rules { get; set; } = [];

    /// <summary>
    /// Optional JSON file <c>{ "rules": [ { "stage": "extract", "action": "crash", "match": "poison-*.pdf" } ] }</c>,
    /// re-read whenever it changes, so a test can add and remove faults while the workers run. A missing file means no
    /// rules from it.
    /// </summary>
    public string? RulesFile { get; set; }
}

/// <summary>One fault: what happens (<see cref="Action"/>), in which stage, to which documents, on which attempts.</summary>
internal sealed class FaultRule
{
    public const string Crash = "crash";
    public const string Slow = "slow";
    public const string Fail = "fail";

    /// <summary>Stage name (one of PipelineStageNames); null or "*" for every stage.</summary>
    public string? Stage { get; set; }

    /// <summary><c>crash</c>: the stage runs, then the process dies before its checkpoint is stored. <c>slow</c>: the
    /// stage does not finish before <see cref="Seconds"/> have passed (cancellable, so it counts against the stage
    /// timeout). <c>fail</c>: the stage fails with a transient I/O error.</summary>
    public string Action { get; set; } = "";

    public double Seconds { get; set; }

    /// <summary>File-name glob (<c>*</c>, <c>?</c>, case-insensitive); null or empty matches every document.</summary>
    public string? Match { get; set; }

    /// <summary>Applies only while the document's lease token (its claim count) is at most this; 0 = always.</summary>
    public long MaxAttempt { get; set; }

    public bool Applies(string stage, string fileName, long attempt) =>
        (string.IsNullOrEmpty(Stage) || Stage == "*" || string.Equals(Stage, stage, StringComparison.Ordinal))
        && (MaxAttempt <= 0 || attempt <= MaxAttempt)
        && (string.IsNullOrEmpty(Match) || Glob(Match).IsMatch(fileName));

    public override string ToString() =>
        $"{Action} in {Stage ?? "*"}" + (Action == Slow ? $" for {Seconds:0.#} s" : "") +
        $" for files '{Match ?? "*"}'" + (MaxAttempt > 0 ? $" up to attempt {MaxAttempt}" : "");

    private static Regex Glob(string pattern) => new(
        "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}

/// <summary>The active rules. When fault injection is off this finds nothing and costs nothing.</summary>
internal sealed partial class FaultInjector(IOptions<FaultInjectionOptions> options, ILogger<FaultInjector> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly FaultInjectionOptions _options = options.Value;
    private readonly Lock _gate = new();
    private DateTime _fileStamp;
    private IReadOnlyList<FaultRule> _fileRules = [];

    public bool IsActive => _options.Enabled;

    /// <summary>The first rule that applies to this stage of this document on this attempt, if any.</summary>
    public FaultRule? Find(string stage, string fileName, long attempt)
    {
        if (!_options.Enabled)
        {
            return null;
        }

        return _options.Rules.Concat(FileRules()).FirstOrDefault(r => r.Applies(stage, fileName, attempt));
    }

    public void Announce()
    {
        if (_options.Enabled)
        {
            LogActive(string.Join("; ", _options.Rules.Select(r => r.ToString())), _options.RulesFile ?? "(none)");
        }
    }

    /// <summary>Dies at once, as kill -9 would (no cleanup, no acknowledgement, no goodbye to IngestService).</summary>
    public void Crash(FaultRule rule, string stage, string documentId)
    {
        LogCrashing(stage, documentId, rule.ToString());
        Environment.FailFast($"Fault injection: crash in stage {stage} of document {documentId} ({rule}).");
    }

    private IReadOnlyList<FaultRule> FileRules()
    {
        if (string.IsNullOrEmpty(_options.RulesFile))
        {
            return [];
        }

        lock (_gate)
        {
            try
            {
                var stamp = File.Exists(_options.RulesFile) ? File.GetLastWriteTimeUtc(_options.RulesFile) : DateTime.MinValue;
                if (stamp != _fileStamp)
                {
                    _fileRules = stamp == DateTime.MinValue
                        ? []
                        : JsonSerializer.Deserialize<RulesDocument>(File.ReadAllText(_options.RulesFile), Json)?.Rules ?? [];
                    _fileStamp = stamp;
                    LogRulesLoaded(_options.RulesFile, _fileRules.Count, string.Join("; ", _fileRules.Select(r => r.ToString())));
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                // A file being rewritten: keep the previous rules and read it again next time.
                LogRulesUnreadable(_options.RulesFile, ex.Message);
            }

            return _fileRules;
        }
    }

    private sealed record RulesDocument(List<FaultRule>? Rules);

    [LoggerMessage(Level = LogLevel.Critical, Message = "FAULT INJECTION IS ACTIVE (test builds only): rules [{Rules}], rules file {RulesFile}")]
    private partial void LogActive(string rules, string rulesFile);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fault injection rules file {Path}: {Count} rule(s): {Rules}")]
    private partial void LogRulesLoaded(string path, int count, string rules);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fault injection rules file {Path} unreadable ({Error}); keeping the previous rules")]
    private partial void LogRulesUnreadable(string path, string error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fault injection: crashing in stage {Stage} of document {DocumentId} ({Rule})")]
    private partial void LogCrashing(string stage, string documentId, string rule);
}

internal static class FaultInjectionRegistration
{
    /// <summary>
    /// Binds the fault injection options and validates them at start-up: enabling them without the environment
    /// variable, or in Production, stops the worker with a message saying so.
    /// </summary>
    public static IServiceCollection AddFaultInjection(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (services.Any(d => d.ServiceType == typeof(FaultInjector)))
        {
            return services;
        }

        services.AddOptions<FaultInjectionOptions>()
            .Bind(configuration.GetSection(FaultInjectionOptions.Section))
            .Validate(
                o => !o.Enabled || Environment.GetEnvironmentVariable(FaultInjectionOptions.AllowVariable) == "1",
                $"FaultInjection:Enabled is true but the environment variable {FaultInjectionOptions.AllowVariable} is not 1. " +
                "Fault injection is for tests only: remove FaultInjection:Enabled, or set both in a test environment.")
            .Validate(
                o => !o.Enabled || !environment.IsProduction(),
                "FaultInjection:Enabled is true in the Production environment. Fault injection crashes and slows the worker " +
                "on purpose and is refused in Production: remove the FaultInjection settings.")
            .Validate(
                o => o.Rules.All(r => r.Action is FaultRule.Crash or FaultRule.Slow or FaultRule.Fail && r.Seconds is >= 0 and <= 86_400),
                "FaultInjection:Rules: every rule needs Action crash, slow or fail, and Seconds between 0 and 86400.")
            .ValidateOnStart();
        services.AddSingleton<FaultInjector>();
        return services;
    }
}
