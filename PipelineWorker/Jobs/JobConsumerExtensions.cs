using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Suite.PipelineWorker.Jobs;

internal static class JobConsumerExtensions
{
    /// <summary>The job consumer (a hosted service reading the Redis stream) and the processor it hands jobs to.</summary>
    public static TBuilder AddJobConsumer<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddWorkerOptions(builder.Configuration);
        builder.Services.AddFaultInjection(builder.Configuration, builder.Environment);
        builder.Services.TryAddSingleton<JobStore>();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<WorkerMetrics>();
        builder.Services.AddTransient<JobProcessor>();
        builder.Services.AddHostedService<JobConsumer>();
        return builder;
    }
}
