namespace Suite.AppHost.Hosting;

/// <summary>
/// A named part of the distributed application (a process the AppHost starts and supervises).
/// What it needs is recorded as annotations, as in Aspire's app model.
/// </summary>
public abstract class Resource
{
    protected Resource(string name)
    {
        ResourceNames.Validate(name);
        Name = name;
    }

    /// <summary>The resource name: the only coupling between services (service discovery, connection strings, telemetry).</summary>
    public string Name { get; }

    public IList<IResourceAnnotation> Annotations { get; } = new List<IResourceAnnotation>();

    /// <summary>Short kind shown on the dashboard ("project", "redis").</summary>
    public abstract string Kind { get; }

    /// <summary>URL scheme of the resource's endpoint.</summary>
    internal abstract string EndpointScheme { get; }

    /// <summary>Number of processes; the last WithReplicas wins, 1 without one.</summary>
    public int Replicas => Annotations.OfType<ReplicasAnnotation>().LastOrDefault()?.Count ?? 1;

    public override string ToString() => $"{Kind} '{Name}'";
}

/// <summary>A .NET project of this repository started as <c>dotnet artifacts/bin/&lt;Project&gt;/&lt;config&gt;/&lt;Project&gt;.dll</c>.</summary>
public sealed class ProjectResource : Resource
{
    public ProjectResource(string name, string projectName)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectName);
        ProjectName = projectName;
    }

    /// <summary>The project (and assembly) name, e.g. IngestService.</summary>
    public string ProjectName { get; }

    public override string Kind => "project";

    internal override string EndpointScheme => "http";
}

/// <summary>A redis-server process with AOF persistence in the AppHost's data folder.</summary>
public sealed class RedisResource : Resource
{
    public RedisResource(string name)
        : base(name)
    {
    }

    public override string Kind => "redis";

    internal override string EndpointScheme => "tcp";
}

internal static class ResourceNames
{
    /// <summary>Aspire's rule: letters, digits and hyphens, starting with a letter.</summary>
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!char.IsAsciiLetter(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || name.EndsWith('-'))
        {
            throw new ArgumentException($"Resource name '{name}' is invalid: use ASCII letters, digits and hyphens, starting with a letter.", nameof(name));
        }
    }
}
