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

/// <summary>What a per-replica value can depend on.</summary>
public sealed record ReplicaContext(Resource Resource, int Index)
{
    /// <summary>Stable across restarts: <c>&lt;resource&gt;-&lt;index&gt;</c>, e.g. pipeline-worker-1.</summary>
    public string InstanceName => $"{Resource.Name}-{Index}";
}
