using LabelingBridge.Configuration;
using LabelingBridge.Ingest;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Http;

namespace Microsoft.Extensions.Hosting;

public static class IngestExtensions
{
    /// <summary>
    /// The typed client of ingest's public document API: BaseAddress http://ingest (service discovery,
    /// services__ingest__http__0), the suite's per-dependency resilience (section Resilience:ingest).
    /// </summary>
    public static TBuilder AddIngestDocuments<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section);
        builder.Services.AddHttpClient<IngestDocumentsClient>(IngestDocumentsClient.ClientName, (services, http) =>
            http.BaseAddress = new Uri(services.GetRequiredService<IOptions<IngestOptions>>().Value.BaseUrl.ToString().TrimEnd('/') + "/"))
            .AddDependencyResilience();
        return builder;
    }
}
