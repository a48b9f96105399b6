using LabelingBridge.Configuration;
using LabelingBridge.Exports;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class ExportExtensions
{
    /// <summary>Exports: the bridge options, task building, provisioning, delivery, the dispatcher and the optional auto-export.</summary>
    public static TBuilder AddExports<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<BridgeOptions>().BindConfiguration(BridgeOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BridgeOptions>, BridgeOptionsValidator>();
        services.TryAddSingleton<LayoutTaskBuilder>();
        services.TryAddSingleton<ProjectProvisioner>();
        services.TryAddSingleton<ExportDelivery>();
        services.TryAddSingleton<ExportSignal>();
        services.AddHostedService<ExportDispatcher>();
        services.AddHostedService<AutoExportPoller>();
        return builder;
    }
}
