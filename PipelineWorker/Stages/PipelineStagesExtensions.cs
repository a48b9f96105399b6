using Microsoft.Extensions.DependencyInjection.Extensions;
using Suite.PipelineWorker.Jobs;

namespace Suite.PipelineWorker.Stages;

internal static class PipelineStagesExtensions
{
    /// <summary>The pipeline's stages, registered in the order they run, and their options.</summary>
    public static TBuilder AddPipelineStages<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddWorkerOptions(builder.Configuration);
        services.AddOptions<ValidateStageOptions>()
            .Bind(builder.Configuration.GetSection(ValidateStageOptions.Section))
            .Validate(o => o.MaxPages is >= 1 and <= 1_000_000, "Worker:Validate:MaxPages must be between 1 and 1000000.")
            .ValidateOnStart();

        // Order matters: each stage reads the checkpoints of the ones before it.
        services.AddSingleton<IPipelineStage, ValidateStage>();
        services.AddSingleton<IPipelineStage, ExtractStage>();
        services.AddSingleton<IPipelineStage, AssembleStage>();

        services.AddMetrics();
        services.TryAddSingleton<WorkerMetrics>();
        services.AddSingleton<DocumentPipeline>();
        return builder;
    }
}
