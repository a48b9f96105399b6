using IngestService.Admission;
using Suite.ServiceDefaults.Health;

namespace Microsoft.Extensions.Hosting;

internal static class AdmissionExtensions
{
    /// <summary>Load shedding of new uploads (queue depth, free disk, memory load), visible in readiness and metrics.</summary>
    public static TBuilder AddUploadAdmission<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<AdmissionOptions>()
            .Bind(builder.Configuration.GetSection(AdmissionOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<DocumentQueueDepth>();
        builder.Services.AddSingleton<AdmissionControl>();
        builder.Services.AddHealthChecks().AddCheck<AdmissionHealthCheck>("admission", tags: [HealthExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(2));
        return builder;
    }
}
