namespace Suite.BrowserTests;

/// <summary>
/// One whole suite (the real AppHost, with its dashboard) shared by the browser tests of the "suite-with-dashboard"
/// collection, as each start costs half a minute or more. Tests that change it (a killed worker) leave it running.
/// </summary>
public sealed class SuiteWithDashboard : IAsyncLifetime
{
    private SuiteApp? _app;

    public SuiteApp App => _app ?? throw new InvalidOperationException("The suite is not started.");

    public async Task InitializeAsync()
    {
        var builder = await SuiteAppBuilder.CreateAsync(dashboard: true);
        _app = await builder.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition("suite-with-dashboard")]
public sealed class SuiteWithDashboardCollection : ICollectionFixture<SuiteWithDashboard>;
