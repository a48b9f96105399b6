namespace Suite.AppHost.Hosting;

/// <summary>Fluent access to one resource of the app model being built.</summary>
public interface IResourceBuilder<out T>
    where T : Resource
{
    T Resource { get; }

    DistributedApplicationBuilder ApplicationBuilder { get; }

    IResourceBuilder<T> WithAnnotation(IResourceAnnotation annotation);
}

internal sealed class ResourceBuilder<T>(T resource, DistributedApplicationBuilder applicationBuilder) : IResourceBuilder<T>
    where T : Resource
{
    public T Resource { get; } = resource;

    public DistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public IResourceBuilder<T> WithAnnotation(IResourceAnnotation annotation)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        Resource.Annotations.Add(annotation);
        return this;
    }
}
