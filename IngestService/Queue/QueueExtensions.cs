using IngestService.Queue;

namespace Microsoft.Extensions.Hosting;

internal static class QueueExtensions
{
    /// <summary>The jobs stream producer and the sweeper that re-enqueues documents whose job is missing from Redis.</summary>
    public static TBuilder AddJobQueue<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<QueueOptions>()
            .Bind(builder.Configuration.GetSection(QueueOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<JobQueue>();
        builder.Services.AddSingleton<JobEnqueuer>();
        builder.Services.AddHostedService<EnqueueSweeper>();
        return builder;
    }
}
