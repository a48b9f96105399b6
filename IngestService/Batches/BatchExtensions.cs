using IngestService.Batches;

namespace Microsoft.Extensions.Hosting;

internal static class BatchExtensions
{
    /// <summary>Batch uploads; their limits are in <c>Ingest</c> (MaxBatchFiles, MaxBatchBytes), validated with the upload's.</summary>
    public static TBuilder AddBatchUploads<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<BatchCatalog>();
        builder.Services.AddSingleton<BatchUpload>();
        return builder;
    }
}
