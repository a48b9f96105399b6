namespace Suite.IntegrationTests;

/// <summary>
/// The whole suite as real processes (redis-server, ingest, 2 workers, the Label Studio emulator, bridge, gateway) with
/// the AppHost's default settings (ingest may call back 127.0.0.1, for the webhook receiver), every service exporting its traces, metrics and logs to <see cref="Telemetry"/>;
/// shared by the tests of the "suite" collection.
/// </summary>
public sealed class SuiteFixture : RunningSuite, IAsyncLifetime
{
    public static readonly string[] Services = ["ingest", "pipeline-worker", "labelstudio", "labeling-bridge", "gateway"];

    private OtlpCollector? _telemetry;

    /// <summary>What the services exported over OTLP (instead of to a dashboard, which tests run without).</summary>
    public OtlpCollector Telemetry => _telemetry ?? throw new InvalidOperationException("The suite is not started.");

    public async Task InitializeAsync()
    {
        _telemetry = await OtlpCollector.StartAsync();
        var builder = await SuiteAppBuilder.CreateAsync();
        foreach (var service in Services)
        {
            builder.WithEnvironment(service, Telemetry.EnvironmentFor(service));
        }

        // The webhook test's receiver listens on 127.0.0.1, which ingest refuses by default (SSRF rules); allowed here
        // only, with a short poll so a notification leaves as soon as the document ends.
        builder.WithEnvironment("ingest", "Sources__AllowedHosts__0", "127.0.0.1");
        builder.WithEnvironment("ingest", "Webhooks__PollMilliseconds", 200);

        await StartAsync(builder);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (_telemetry is not null)
        {
            await _telemetry.DisposeAsync();
        }
    }
}

[CollectionDefinition("suite")]
public sealed class SuiteCollection : ICollectionFixture<SuiteFixture>;
