using IngestService.Queue;
using Suite.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

internal static class QueueExtensions
{
    /// <summary>
    /// The jobs stream producer, the sweeper that re-enqueues documents whose job is missing from Redis, and the queue
    /// depth and lag gauges.
    /// </summary>
    public static TBuilder AddJobQueue<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<QueueOptions>()
            .Bind(builder.Configuration.GetSection(QueueOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<JobQueue>();
        builder.Services.AddSingleton<JobEnqueuer>();
        builder.Services.AddEagerSingleton<QueueMetrics>();
        builder.Services.AddHostedService<EnqueueSweeper>();
        return builder;
    }
}
