using System.Globalization;

namespace Suite.BrowserTests;

/// <summary>
/// One whole suite (the real AppHost, with its dashboard) shared by the browser tests of the "suite-with-dashboard"
/// collection, as each start costs half a minute or more. Tests that change it (a killed worker) leave it running.
/// </summary>
/// <remarks>
/// The workers run with fault injection on (PipelineWorker's FaultInjection, rules from configuration) for the viewer
/// tests, which must see a document between its stages and cancel one that is still processing; the rules match only
/// file names the viewer tests give their uploads, so every other document is processed at full speed:
/// <c>viewer-slow-*.pdf</c> spends <see cref="SlowStageSeconds"/> in each of extract and layout, and
/// <c>viewer-hold-*.pdf</c> stays <see cref="HoldSeconds"/> in extract (it is cancelled long before; the worker stops at
/// its next lease renewal).
/// </remarks>
public sealed class SuiteWithDashboard : IAsyncLifetime
{
    public const string SlowFiles = "viewer-slow-*.pdf";
    public const string HeldFiles = "viewer-hold-*.pdf";
    public const int SlowStageSeconds = 3;
    public const int HoldSeconds = 45;

    private SuiteApp? _app;

    public SuiteApp App => _app ?? throw new InvalidOperationException("The suite is not started.");

    public async Task InitializeAsync()
    {
        var builder = await SuiteAppBuilder.CreateAsync(dashboard: true);
        builder.WithEnvironment("pipeline-worker", FaultRules());
        _app = await builder.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static Dictionary<string, string> FaultRules()
    {
        var settings = new Dictionary<string, string>
        {
            ["SUITE_ALLOW_FAULT_INJECTION"] = "1",
            ["FaultInjection__Enabled"] = "true",
        };
        (string Stage, string Match, int Seconds)[] rules =
        [
            ("extract", SlowFiles, SlowStageSeconds),
            ("layout", SlowFiles, SlowStageSeconds),
            ("extract", HeldFiles, HoldSeconds),
        ];
        for (var i = 0; i < rules.Length; i++)
        {
            settings[$"FaultInjection__Rules__{i}__Stage"] = rules[i].Stage;
            settings[$"FaultInjection__Rules__{i}__Action"] = "slow";
            settings[$"FaultInjection__Rules__{i}__Match"] = rules[i].Match;
            settings[$"FaultInjection__Rules__{i}__Seconds"] = rules[i].Seconds.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }
}

[CollectionDefinition("suite-with-dashboard")]
public sealed class SuiteWithDashboardCollection : ICollectionFixture<SuiteWithDashboard>;
