namespace Suite.AppHost.Hosting;

/// <summary>The Aspire-style verbs of the app model.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>
    /// Lets the resource find <paramref name="source"/>: a project becomes <c>services__{name}__http__{i}</c> and
    /// <c>{NAME}_HTTP</c>; a connection-string resource becomes <c>ConnectionStrings__{name}</c> plus its properties.
    /// </summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<Resource> source)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        return builder.WithAnnotation(new ReferenceAnnotation(source.Resource));
    }

    /// <summary>Start the resource only after <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<Resource> dependency)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dependency);
        return builder.WithAnnotation(new WaitAnnotation(dependency.Resource));
    }

    /// <summary>Run <paramref name="replicas"/> processes, each on its own port (Suite:Replicas:&lt;name&gt; overrides).</summary>
    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> builder, int replicas)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        return builder.WithAnnotation(new ReplicasAnnotation(replicas));
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string value)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(value);
        return builder.WithEnvironment(name, _ => value);
    }

    /// <summary>An environment variable whose value depends on the replica.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, Func<ReplicaContext, string> value)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        return builder.WithAnnotation(new EnvironmentAnnotation(name, value));
    }

    /// <summary>The resource's HTTP endpoint on a given host port (null or 0: any free port).</summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is between 0 and 65535.");
        }

        return builder.WithAnnotation(new HttpEndpointAnnotation(port is 0 ? null : port));
    }

    /// <summary>Whether the supervisor restarts the resource's processes when they exit unexpectedly.</summary>
    public static IResourceBuilder<T> WithRestartOnExit<T>(this IResourceBuilder<T> builder, bool restart = true)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithAnnotation(new RestartPolicyAnnotation(restart));
    }

    /// <summary>Adds a project of this repository (its built dll is started with <c>dotnet</c>).</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this DistributedApplicationBuilder builder, string name, string projectName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddResource(new ProjectResource(name, projectName));
    }

    /// <summary>Adds a redis-server process (AOF, appendfsync everysec, noeviction) keeping its data in the data folder.</summary>
    public static IResourceBuilder<RedisResource> AddRedis(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddResource(new RedisResource(name));
    }
}
