using IngestService.Retention;

namespace Microsoft.Extensions.Hosting;

internal static class RetentionExtensions
{
    /// <summary>
    /// Retention (section <c>Retention</c>, validated at start-up): the policy uploads resolve <c>retainFor</c> with,
    /// the crash-safe deletion, the sweeper and the 410 filter of the document routes.
    /// </summary>
    public static TBuilder AddRetention<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var environment = builder.Environment;
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.TestPauseAfterTombstoneMs == 0 || RetentionTestHook.Allowed(environment),
                $"Retention:TestPauseAfterTombstoneMs is a test hook: it needs {RetentionTestHook.AllowVariable}=1 and an environment other than Production.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RetentionPolicy>();
        builder.Services.AddSingleton<Tombstones>();
        builder.Services.AddSingleton<RetentionTestHook>();
        builder.Services.AddSingleton<DocumentDeletion>();
        builder.Services.AddSingleton<TombstoneFilter>();
        builder.Services.AddHostedService<RetentionSweeper>();
        return builder;
    }
}
