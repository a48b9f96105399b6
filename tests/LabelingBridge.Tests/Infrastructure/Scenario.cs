using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LabelStudioEmulator;
using LabelStudioEmulator.Model;
using Suite.Testing;

namespace LabelingBridge.Tests.Infrastructure;

/// <summary>
/// One test's world, all over real HTTP: the Label Studio emulator (optionally behind a <see cref="FaultProxy"/>),
/// a stand-in of ingest's public API, and the real bridge with its own SQLite outbox in a temp folder. Timeouts,
/// break durations and intervals are short so that fault scenarios finish in seconds.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string WebhookSecret = "test-webhook-secret-0123456789";

    private readonly string _dataDir;
    private readonly bool _ownsEmulator;

    private Scenario(EmulatorServer emulator, bool ownsEmulator, FaultProxy? proxy, IngestStandIn ingest, BridgeApp bridge, string dataDir)
    {
        _ownsEmulator = ownsEmulator;
        Emulator = emulator;
        Proxy = proxy;
        Ingest = ingest;
        Bridge = bridge;
        _dataDir = dataDir;
        Client = new HttpClient { BaseAddress = bridge.Url, Timeout = TimeSpan.FromSeconds(30) };
        Metrics = new MetricsProbe(bridge.Services);
    }

    public EmulatorServer Emulator { get; }
    public FaultProxy? Proxy { get; }
    public IngestStandIn Ingest { get; }
    public BridgeApp Bridge { get; }
    public HttpClient Client { get; }
    public MetricsProbe Metrics { get; }

    public static async Task<Scenario> StartAsync(
        Action<Dictionary<string, string?>>? configure = null,
        bool throughProxy = false,
        EmulatorSettings? emulatorSettings = null,
        Func<EmulatorServer, string>? apiKey = null,
        EmulatorServer? sharedEmulator = null)
    {
        var emulator = sharedEmulator ?? await EmulatorServer.StartAsync(emulatorSettings);
        var proxy = throughProxy ? FaultProxy.Start(emulator.Url) : null;
        var ingest = await IngestStandIn.StartAsync();
        var dataDir = Directory.CreateTempSubdirectory("bridge-test-").FullName;
        var port = BridgeApp.NextPort();
        var settings = new Dictionary<string, string?>
        {
            ["LabelStudio:Enabled"] = "true",
            ["LabelStudio:Url"] = (proxy?.Url ?? emulator.Url).ToString(),
            ["LabelStudio:ApiKey"] = apiKey?.Invoke(emulator) ?? emulator.LegacyToken,
            ["LabelStudio:Timeouts:ConnectSeconds"] = "1",
            ["LabelStudio:Timeouts:AttemptSeconds"] = "2",
            ["LabelStudio:Timeouts:TotalSeconds"] = "4",
            ["LabelStudio:Retry:MaxRetries"] = "2",
            ["LabelStudio:Retry:BaseDelayMilliseconds"] = "100",
            ["LabelStudio:Retry:MaxDelaySeconds"] = "1",
            ["LabelStudio:Breaker:FailureRatio"] = "0.5",
            ["LabelStudio:Breaker:MinimumThroughput"] = "3",
            ["LabelStudio:Breaker:SamplingDurationSeconds"] = "5",
            ["LabelStudio:Breaker:BreakDurationSeconds"] = "2",
            ["LabelStudio:CredentialProbeIntervalSeconds"] = "1",
            ["Outbox:DatabasePath"] = Path.Combine(dataDir, "outbox.db"),
            ["Outbox:PollIntervalSeconds"] = "0.2",
            ["Outbox:RetryBaseDelaySeconds"] = "0.2",
            ["Outbox:RetryMaxDelaySeconds"] = "1",
            ["Bridge:PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["Bridge:WebhookSecret"] = WebhookSecret,
            ["Bridge:ReconcileIntervalSeconds"] = "60",
            ["services:ingest:http:0"] = ingest.Url.ToString().TrimEnd('/'),
            ["Shutdown:TimeoutSeconds"] = "5",
        };
        configure?.Invoke(settings);
        var bridge = new BridgeApp(settings, port);
        try
        {
            bridge.StartServer();
        }
        catch
        {
            // Clean up without masking why the bridge did not start.
            try
            {
                await bridge.DisposeAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or AggregateException)
            {
            }

            await ingest.DisposeAsync();
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }

            if (sharedEmulator is null)
            {
                await emulator.DisposeAsync();
            }

            throw;
        }

        return new Scenario(emulator, sharedEmulator is null, proxy, ingest, bridge, dataDir);
    }

    /// <summary>Adds a completed document to the ingest stand-in and returns its id.</summary>
    public string AddDocument(int pages = 2)
    {
        var id = Documents.NewId();
        Ingest.Add(Documents.Result(id, pages));
        return id;
    }

    public async Task<string> RequestExportAsync(string documentId)
    {
        using var response = await Client.PostAsync(new Uri($"/api/documents/{documentId}/exports/label-studio", UriKind.Relative), null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("exportId").GetString()!;
    }

    public async Task<JsonElement> ExportAsync(string exportId) =>
        (await Client.GetFromJsonAsync<JsonElement>(new Uri("/api/exports/" + exportId, UriKind.Relative)));

    public Task<JsonElement> WaitForExportAsync(string exportId, string state, TimeSpan timeout) =>
        WaitForExportAsync(exportId, e => e.GetProperty("state").GetString() == state, timeout, "export " + exportId + " is " + state);

    public async Task<JsonElement> WaitForExportAsync(string exportId, Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        JsonElement last = default;
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                last = await ExportAsync(exportId);
                return condition(last);
            }, timeout, what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; the export was last: {last}", ex);
        }

        return last;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> ReadinessAsync()
    {
        using var response = await Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The emulator's tasks of one document.</summary>
    public IReadOnlyList<TaskRecord> TasksOf(string documentId) =>
        Emulator.Store.Projects(null).SelectMany(p => Emulator.Store.Tasks(p.Id))
            .Where(t => t.Data["doc_id"]?.ToString() == documentId).ToList();

    public static string Seconds(double value) => value.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        Metrics.Dispose();
        Client.Dispose();
        Emulator.Faults.Reset();
        if (Proxy is not null)
        {
            Proxy.BlackHole = false;
        }

        await Bridge.DisposeAsync();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        if (_ownsEmulator)
        {
            await Emulator.DisposeAsync();
        }

        await Ingest.DisposeAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
