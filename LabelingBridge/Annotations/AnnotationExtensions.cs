using LabelingBridge.Annotations;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class AnnotationExtensions
{
    /// <summary>Annotations back: the store and the periodic reconciliation that catches up on lost webhooks.</summary>
    public static TBuilder AddAnnotations<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<AnnotationStore>();
        builder.Services.AddHostedService<AnnotationReconciler>();
        return builder;
    }
}
