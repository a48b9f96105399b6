using IngestService.Api;
using IngestService.Documents;

namespace Microsoft.Extensions.Hosting;

internal static class DocumentApiExtensions
{
    /// <summary>Limits and handlers shared by the public document API and the internal worker API.</summary>
    public static TBuilder AddIngestApi<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<IngestOptions>()
            .Bind(builder.Configuration.GetSection(IngestOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultPageSize <= o.MaxPageSize, "Ingest:DefaultPageSize must not be larger than Ingest:MaxPageSize.")
            .ValidateOnStart();
        builder.Services.AddSingleton<UploadHandler>();
        builder.Services.AddSingleton<UploadKeys>();
        builder.Services.AddSingleton<StorageFailureFilter>();
        return builder;
    }
}
