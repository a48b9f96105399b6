using Suite.ServiceDefaults.Http;

namespace Suite.PipelineWorker.Ingest;

internal static class IngestClientExtensions
{
    /// <summary>
    /// The typed <see cref="IngestClient"/>: base address <c>http://ingest</c>, resolved by service discovery from
    /// <c>services__ingest__http__0</c> (the AppHost injects it), with its own resilience pipeline (section
    /// <c>Resilience:IngestClient</c>).
    /// </summary>
    public static TBuilder AddIngestClient<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var baseAddress = builder.Configuration["Ingest:BaseAddress"] ?? "http://ingest";
        builder.Services.AddHttpClient<IngestClient>(client => client.BaseAddress = new Uri(baseAddress))
            .AddDependencyResilience();
        return builder;
    }
}
