using System.Globalization;
using System.Text;

namespace Suite.AppHost.Hosting;

/// <summary>What every replica's environment is built from (fixed once ports and the dashboard are known).</summary>
internal sealed record ContractContext(
    string EnvironmentName,
    Uri OtlpEndpoint,
    IReadOnlyDictionary<Resource, IReadOnlyList<int>> Ports,
    SuiteOptions Options);

/// <summary>
/// The environment a project replica gets: exactly the variables .NET Aspire injects (see
/// shared/reference/aspire-conventions.md §1), so every service runs unchanged under real Aspire.
/// Later entries win: contract, references, WithEnvironment, then Suite:Env:&lt;resource&gt;.
/// </summary>
internal static class EnvironmentContract
{
    public const string Host = "127.0.0.1";

    public static string HttpUrl(int port) => $"http://{Host}:{port.ToString(CultureInfo.InvariantCulture)}";

    public static IReadOnlyDictionary<string, string> ForProject(ProjectResource resource, int index, ContractContext context)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(context);
        var replica = new ReplicaContext(resource, index, context.Ports);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = HttpUrl(context.Ports[resource][index]),
            ["DOTNET_ENVIRONMENT"] = context.EnvironmentName,
            ["ASPNETCORE_ENVIRONMENT"] = context.EnvironmentName,
            ["OTEL_SERVICE_NAME"] = resource.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=" + replica.InstanceName,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = context.OtlpEndpoint.GetLeftPart(UriPartial.Authority),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
            ["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true",
        };

        if (context.EnvironmentName == "Development")
        {
            // Aspire adds these in Development only: sample everything, link exemplars to traces.
            env["OTEL_TRACES_SAMPLER"] = "always_on";
            env["OTEL_METRICS_EXEMPLAR_FILTER"] = "trace_based";
        }

        foreach (var reference in resource.Annotations.OfType<ReferenceAnnotation>())
        {
            AddReference(env, reference.Target, context);
        }

        foreach (var variable in resource.Annotations.OfType<EnvironmentAnnotation>())
        {
            env[variable.Name] = variable.Value(replica);
        }

        if (context.Options.Env.TryGetValue(resource.Name, out var extra))
        {
            foreach (var (name, value) in extra)
            {
                env[name] = value;
            }
        }

        return env;
    }

    /// <summary>StackExchange.Redis format, as Aspire's Redis resource writes it (no password: bound to loopback).</summary>
    public static string RedisConnectionString(int port) => $"{Host}:{port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Aspire's EnvironmentVariableNameEncoder: upper case, every non-alphanumeric becomes '_'.</summary>
    public static string EncodeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return builder.ToString();
    }

    private static void AddReference(Dictionary<string, string> env, Resource target, ContractContext context)
    {
        var ports = context.Ports[target];
        var prefix = EncodeName(target.Name);
        switch (target)
        {
            case ProjectResource:
                for (var i = 0; i < ports.Count; i++)
                {
                    env[$"services__{target.Name}__http__{i.ToString(CultureInfo.InvariantCulture)}"] = HttpUrl(ports[i]);
                }

                env[prefix + "_HTTP"] = HttpUrl(ports[0]);
                break;
            case RedisResource:
                var port = ports[0].ToString(CultureInfo.InvariantCulture);
                env[$"ConnectionStrings__{target.Name}"] = RedisConnectionString(ports[0]);
                env[prefix + "_HOST"] = Host;
                env[prefix + "_PORT"] = port;
                env[prefix + "_URI"] = $"redis://{Host}:{port}";
                break;
            default:
                throw new NotSupportedException($"{target} cannot be referenced.");
        }
    }
}
