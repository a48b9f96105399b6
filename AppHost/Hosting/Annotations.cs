namespace Suite.AppHost.Hosting;

/// <summary>Marker for what a resource builder records about a resource (Aspire's annotations, lite).</summary>
public interface IResourceAnnotation;

/// <summary>An environment variable; the value may depend on the replica (e.g. a per-replica consumer name).</summary>
public sealed record EnvironmentAnnotation(string Name, Func<ReplicaContext, string> Value) : IResourceAnnotation;

/// <summary>The annotated resource consumes <paramref name="Target"/> (service discovery or connection string).</summary>
public sealed record ReferenceAnnotation(Resource Target) : IResourceAnnotation;

/// <summary>The annotated resource starts only once <paramref name="Target"/> is healthy.</summary>
public sealed record WaitAnnotation(Resource Target) : IResourceAnnotation;

public sealed record ReplicasAnnotation(int Count) : IResourceAnnotation;

/// <summary>A host port chosen by the app model (null = any free port); the resource's entry point.</summary>
public sealed record HttpEndpointAnnotation(int? Port) : IResourceAnnotation;

/// <summary>Whether an unexpected exit is followed by a restart (overrides Suite:RestartOnExit).</summary>
public sealed record RestartPolicyAnnotation(bool RestartOnExit) : IResourceAnnotation;

/// <summary>What a per-replica value can depend on: the replica, and the URLs allocated to every resource.</summary>
public sealed record ReplicaContext(Resource Resource, int Index, IReadOnlyDictionary<Resource, IReadOnlyList<int>>? Ports = null)
{
    /// <summary>Stable across restarts: <c>&lt;resource&gt;-&lt;index&gt;</c>, e.g. pipeline-worker-1.</summary>
    public string InstanceName => $"{Resource.Name}-{Index}";

    /// <summary>
    /// The URL of another resource's replica, known once ports are allocated (Aspire's endpoint references),
    /// e.g. the gateway's public URL for a service that must hand out links.
    /// </summary>
    public Uri UrlOf(string resourceName, int replica = 0)
    {
        var (_, ports) = Ports?.FirstOrDefault(p => string.Equals(p.Key.Name, resourceName, StringComparison.OrdinalIgnoreCase))
            ?? default;
        return ports is { Count: > 0 } && replica < ports.Count
            ? new Uri(EnvironmentContract.HttpUrl(ports[replica]))
            : throw new DistributedApplicationException($"Resource '{resourceName}' has no allocated endpoint {replica}.");
    }
}
