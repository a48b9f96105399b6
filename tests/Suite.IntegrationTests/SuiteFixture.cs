namespace Suite.IntegrationTests;

/// <summary>
/// The whole suite as real processes (redis-server, ingest, 2 workers, bridge, gateway) with the AppHost's default
/// settings, shared by the tests of the "suite" collection.
/// </summary>
public sealed class SuiteFixture : RunningSuite, IAsyncLifetime
{
    public async Task InitializeAsync() => await StartAsync(await SuiteAppBuilder.CreateAsync());

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}

[CollectionDefinition("suite")]
public sealed class SuiteCollection : ICollectionFixture<SuiteFixture>;
