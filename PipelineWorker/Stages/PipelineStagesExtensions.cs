using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Readers;
using Suite.PipelineWorker.Pdf;
using Suite.ServiceDefaults.Health;
using Suite.ServiceDefaults.Http;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Resilience;

namespace Suite.PipelineWorker.Stages;

internal static class PipelineStagesExtensions
{
    /// <summary>The pipeline's stages, registered in the order they run, their options, engines and clients.</summary>
    public static TBuilder AddPipelineStages<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddWorkerOptions(configuration);
        services.AddOptions<ValidateStageOptions>()
            .Bind(configuration.GetSection(ValidateStageOptions.Section))
            .Validate(o => o.MaxPages is >= 1 and <= 1_000_000, "Worker:Validate:MaxPages must be between 1 and 1000000.")
            .Validate(o => o.MaxSizeBytes >= 1024, "Worker:Validate:MaxSizeBytes must be at least 1024.")
            .ValidateOnStart();
        services.AddStageOptions<RenderOptions>(configuration, RenderOptions.Section);
        services.AddStageOptions<OcrOptions>(configuration, OcrOptions.Section);
        services.AddStageOptions<LayoutOptions>(configuration, LayoutOptions.Section);
        services.AddStageOptions<ReadingOrderOptions>(configuration, ReadingOrderOptions.Section);
        services.AddStageOptions<TablesOptions>(configuration, TablesOptions.Section);
        services.AddStageOptions<PicturesOptions>(configuration, PicturesOptions.Section);
        services.AddStageOptions<AssembleOptions>(configuration, AssembleOptions.Section);
        services.AddOptions<TextFallbackOptions>()
            .Bind(configuration.GetSection(TextFallbackOptions.Section))
            .Validate(o => !o.Validate().Any(), "Pipeline:TextFallback:PageTimeoutSeconds must be between 1 and 3600.")
            .ValidateOnStart();
        services.AddOptions<ReaderOptions>()
            .Bind(configuration.GetSection(ReaderOptions.Section))
            .Validate(o => !o.Validate().Any(), "Worker:Readers is invalid (see PipelineWorker/README.md).")
            .ValidateOnStart();
        builder.AddPipelineEngines();
        services.AddSingleton<TextFallback>();

        // One reader per non-PDF format; PDF is read through Pdf/.
        services.AddSingleton<ImageReader>();
        services.AddSingleton<IDocumentReader>(sp => sp.GetRequiredService<ImageReader>());
        services.AddSingleton<IDocumentReader, PdfDocumentReader>();
        services.AddSingleton<IDocumentReader, DocxReader>();
        services.AddSingleton<IDocumentReader, PptxReader>();
        services.AddSingleton<IDocumentReader, HtmlReader>();
        services.AddSingleton<IDocumentReader, MarkdownReader>();
        services.AddSingleton<DocumentReaders>();

        services.AddHttpClient<ArtifactClient>(client => client.BaseAddress = new Uri(configuration["Ingest:BaseAddress"] ?? "http://ingest"))
            .AddDependencyResilience();

        // Order matters: each stage reads the checkpoints of the ones before it.
        services.AddSingleton<IPipelineStage, ValidateStage>();
        services.AddSingleton<IPipelineStage, ExtractStage>();
        services.AddSingleton<IPipelineStage, RenderStage>();
        services.AddSingleton<IPipelineStage, OcrStage>();
        services.AddSingleton<IPipelineStage, LayoutStage>();
        services.AddSingleton<IPipelineStage, ReadingOrderStage>();
        services.AddSingleton<IPipelineStage, TablesStage>();
        services.AddSingleton<IPipelineStage, PicturesStage>();
        services.AddSingleton<IPipelineStage, DescribeStage>();
        services.AddSingleton<IPipelineStage, AssembleStage>();

        services.AddMetrics();
        services.AddResilienceTelemetry();
        services.TryAddSingleton<WorkerMetrics>();
        services.AddSingleton<DocumentPipeline>();
        return builder;
    }

    /// <summary>
    /// The external engines (probed at start-up, readiness Degraded when one is missing, SU-4), their breakers, and
    /// the vision client with its own resilience pipeline and circuit breaker (section <c>Resilience:vision</c>).
    /// </summary>
    public static TBuilder AddPipelineEngines<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<EngineOptions>()
            .Bind(builder.Configuration.GetSection(EngineOptions.Section))
            .Validate(o => !o.Validate().Any(), "Pipeline:Engines is invalid (see the option documentation).")
            .ValidateOnStart();
        services.AddOptions<DescribeOptions>()
            .Bind(builder.Configuration.GetSection(DescribeOptions.Section))
            .Validate(o => !o.Validate().Any(), "Pipeline:Describe is invalid: Url must be an absolute http(s) URL with a Model, and the limits positive.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ProcessRunner>();
        services.TryAddSingleton<EngineRegistry>();
        services.TryAddSingleton<EngineBreakers>();
        services.TryAddSingleton<PageRenderer>();
        services.TryAddSingleton<OcrEngine>();
        services.TryAddSingleton<PopplerText>();
        services.AddStartupStep<EngineProbeService>();
        services.AddHealthChecks().AddCheck<EngineHealthCheck>("engines", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(4));

        services.AddHttpClient<VisionClient>(VisionClient.Name, (sp, client) =>
            {
                var url = sp.GetRequiredService<IOptions<DescribeOptions>>().Value.Url;
                if (!string.IsNullOrWhiteSpace(url))
                {
                    client.BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/");
                }

                // The resilience pipeline owns the timeouts (attempt and total).
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddDependencyResilience()
            .Configure((HttpStandardResilienceOptions o, IServiceProvider sp) =>
            {
                // A model answers slowly: defaults for it, then the section Resilience:vision again so it wins.
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(120);
                o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(300);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(240);
                sp.GetRequiredService<IConfiguration>().GetSection("Resilience:" + VisionClient.Name).Bind(o);

                var breakers = sp.GetRequiredService<CircuitBreakerStates>();
                breakers.Register(VisionClient.Name);
                o.CircuitBreaker.OnOpened = args =>
                {
                    breakers.Opened(VisionClient.Name, args.BreakDuration);
                    return default;
                };
                o.CircuitBreaker.OnHalfOpened = _ =>
                {
                    breakers.HalfOpened(VisionClient.Name);
                    return default;
                };
                o.CircuitBreaker.OnClosed = _ =>
                {
                    breakers.Closed(VisionClient.Name);
                    return default;
                };
            });
        return builder;
    }

    private static void AddStageOptions<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : StageOptions
    {
        services.AddOptions<T>()
            .Bind(configuration.GetSection(section))
            .Validate(o => !o.Validate(section).Any(), $"{section} is invalid: TimeoutSeconds must be 1-86400 and the limits in range (see PipelineWorker/README.md).")
            .ValidateOnStart();
    }
}
