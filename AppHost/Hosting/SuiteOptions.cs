using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Suite.AppHost.Hosting;

/// <summary>
/// The AppHost's settings, section <c>Suite</c>: command line (<c>--Suite:GatewayPort=0</c>) or environment
/// (<c>Suite__GatewayPort=0</c>). Validated before anything starts.
/// </summary>
public sealed class SuiteOptions
{
    public const string SectionName = "Suite";

    /// <summary>Host port of the gateway; 0 = any free port.</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; } = 8080;

    /// <summary>Port of the dashboard and its OTLP/HTTP receiver; 0 = any free port.</summary>
    [Range(0, 65535)]
    public int DashboardPort { get; set; } = 18888;

    /// <summary>Where redis and the services keep their data; default &lt;repo&gt;/.data.</summary>
    public string? DataDir { get; set; }

    /// <summary>Echo every child's console lines, prefixed with [name-i].</summary>
    public bool EchoLogs { get; set; } = true;

    /// <summary>SIGTERM grace before SIGKILL; services drain for up to 30 s.</summary>
    [Range(1, 600)]
    public int StopTimeoutSeconds { get; set; } = 35;

    /// <summary>How long a resource may take from launch to healthy.</summary>
    [Range(1, 3600)]
    public int StartTimeoutSeconds { get; set; } = 60;

    /// <summary>Restart processes that exit unexpectedly (per resource: WithRestartOnExit).</summary>
    public bool RestartOnExit { get; set; } = true;

    /// <summary>Suite:Replicas:&lt;resource&gt; overrides WithReplicas.</summary>
    public Dictionary<string, int> Replicas { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Suite:Env:&lt;resource&gt;:&lt;VAR&gt; adds environment variables to a resource (e.g. test knobs).</summary>
    public Dictionary<string, Dictionary<string, string>> Env { get; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan StopTimeout => TimeSpan.FromSeconds(StopTimeoutSeconds);

    public TimeSpan StartTimeout => TimeSpan.FromSeconds(StartTimeoutSeconds);

    /// <summary>Reads the section; a value that does not parse is reported, not thrown, so that Run can say so plainly.</summary>
    internal static SuiteOptions Load(IConfiguration configuration, ICollection<string> errors)
    {
        var options = new SuiteOptions();
        var section = configuration.GetSection(SectionName);
        options.GatewayPort = ReadInt(section, nameof(GatewayPort), options.GatewayPort, errors);
        options.DashboardPort = ReadInt(section, nameof(DashboardPort), options.DashboardPort, errors);
        options.StopTimeoutSeconds = ReadInt(section, nameof(StopTimeoutSeconds), options.StopTimeoutSeconds, errors);
        options.StartTimeoutSeconds = ReadInt(section, nameof(StartTimeoutSeconds), options.StartTimeoutSeconds, errors);
        options.EchoLogs = ReadBool(section, nameof(EchoLogs), options.EchoLogs, errors);
        options.RestartOnExit = ReadBool(section, nameof(RestartOnExit), options.RestartOnExit, errors);
        options.DataDir = string.IsNullOrWhiteSpace(section[nameof(DataDir)]) ? null : section[nameof(DataDir)];

        foreach (var replica in section.GetSection(nameof(Replicas)).GetChildren())
        {
            options.Replicas[replica.Key] = ReadInt(section.GetSection(nameof(Replicas)), replica.Key, 1, errors);
        }

        foreach (var resource in section.GetSection(nameof(Env)).GetChildren())
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(resource, prefix: null, variables);
            options.Env[resource.Key] = variables;
        }

        return options;
    }

    /// <summary>Range checks (data annotations) plus the rules between settings.</summary>
    internal IEnumerable<string> Validate()
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        foreach (var result in results)
        {
            yield return $"{SectionName}:{string.Join(',', result.MemberNames)}: {result.ErrorMessage}";
        }

        foreach (var (resource, count) in Replicas)
        {
            if (count is < 1 or > 32)
            {
                yield return $"{SectionName}:Replicas:{resource} is {count}; it must be between 1 and 32.";
            }
        }

        if (GatewayPort != 0 && GatewayPort == DashboardPort)
        {
            yield return $"{SectionName}:GatewayPort and {SectionName}:DashboardPort are both {GatewayPort}; use two ports (0 = any free port).";
        }
    }

    /// <summary>Nested keys join with "__": Suite:Env:ingest:Storage:Root (from Suite__Env__ingest__Storage__Root) is Storage__Root.</summary>
    private static void Flatten(IConfigurationSection section, string? prefix, Dictionary<string, string> into)
    {
        foreach (var child in section.GetChildren())
        {
            var name = prefix is null ? child.Key : prefix + "__" + child.Key;
            if (child.Value is not null)
            {
                into[name] = child.Value;
            }

            Flatten(child, name, into);
        }
    }

    private static int ReadInt(IConfigurationSection section, string key, int fallback, ICollection<string> errors)
    {
        var raw = section[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{section.Path}:{key} is '{raw}', which is not a whole number.");
        return fallback;
    }

    private static bool ReadBool(IConfigurationSection section, string key, bool fallback, ICollection<string> errors)
    {
        var raw = section[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        if (bool.TryParse(raw, out var value))
        {
            return value;
        }

        errors.Add($"{section.Path}:{key} is '{raw}'; use true or false.");
        return fallback;
    }
}
