using IngestService.Events;

namespace Microsoft.Extensions.Hosting;

internal static class EventsExtensions
{
    /// <summary>Progress events: their options, the catalog reads, the pump that wakes streams, the streams and their metrics.</summary>
    public static TBuilder AddProgressEvents<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<EventOptions>()
            .Bind(builder.Configuration.GetSection(EventOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<EventCatalog>();
        builder.Services.AddSingleton<EventSignals>();
        builder.Services.AddSingleton<EventMetrics>();
        builder.Services.AddSingleton<EventStream>();
        builder.Services.AddHostedService<EventPump>();
        return builder;
    }
}
