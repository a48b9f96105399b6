using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using StackExchange.Redis;
using Aspire.Hosting;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// The real topology (redis-server with AOF, ingest, several workers, bridge, gateway) started from the real Aspire
/// AppHost for chaos tests: workers with fault injection switched on (rules in a file the test rewrites while
/// they run), a short visibility timeout, and helpers to kill -9, hold down, pause and resume exact processes and to
/// read the catalog, the document histories and Redis.
/// </summary>
public sealed class ChaosApp : RunningSuite
{
    public const string Workers = "pipeline-worker";
    public const int VisibilityTimeoutSeconds = 3;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private ChaosApp(string rulesFile, string workDirectory)
    {
        RulesFile = rulesFile;
        WorkDirectory = workDirectory;
    }

    /// <summary>IngestService directly: its internal API (document histories) is not routed by the gateway.</summary>
    public HttpClient Ingest { get; private set; } = null!;

    public string RulesFile { get; }

    /// <summary>Where the workers keep their per-job folders ({consumer}.{pid}/{documentId}).</summary>
    public string WorkDirectory { get; }

    public string IngestRoot => Path.Combine(App.DataDirectory, "ingest");

    public int WorkerCount => App.GetReplicas(Workers).Count;

    public static async Task<ChaosApp> StartAsync(
        int workers, IReadOnlyDictionary<string, string>? workerSettings = null, IReadOnlyDictionary<string, string>? ingestSettings = null,
        IReadOnlyDictionary<string, string>? gatewaySettings = null)
    {
        var builder = await SuiteAppBuilder.CreateAsync();
        var rulesFile = Path.Combine(builder.DataDirectory, "faults.json");
        var workDirectory = Path.Combine(builder.DataDirectory, "worker-work");
        var worker = builder.Project(Workers).WithReplicas(workers);
        foreach (var (name, value) in new Dictionary<string, string>
                 {
                     ["SUITE_ALLOW_FAULT_INJECTION"] = "1",
                     ["FaultInjection__Enabled"] = "true",
                     ["FaultInjection__RulesFile"] = rulesFile,
                     ["Worker__VisibilityTimeoutSeconds"] = VisibilityTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                     ["Worker__ReclaimIntervalSeconds"] = "1",
                     ["Worker__PollMaxDelayMs"] = "250",
                     ["Worker__RetryBaseDelayMs"] = "500",
                     ["Worker__RetryMaxDelayMs"] = "4000",
                     ["Worker__WorkDirectory"] = workDirectory,
                     ["Resilience__IngestClient__Retry__Delay"] = "00:00:00.100",
                 }.Where(e => workerSettings?.ContainsKey(e.Key) != true).Concat(workerSettings ?? new Dictionary<string, string>()))
        {
            worker.WithEnvironment(name, value);
        }

        var ingest = builder.Project("ingest");
        foreach (var (name, value) in new Dictionary<string, string>
                 {
                     ["Queue__SweepIntervalSeconds"] = "1",
                     ["Queue__VerifyAfterSeconds"] = "8",
                 }.Concat(ingestSettings ?? new Dictionary<string, string>()))
        {
            ingest.WithEnvironment(name, value);
        }

        // Chaos runs upload their whole batch at once, as a bulk client granted a larger upload quota would; the
        // default per-client limit is the front door's business (FrontDoorSuiteTests), not these tests'.
        builder.WithEnvironment("gateway", new Dictionary<string, string>
        {
            ["Gateway__RateLimits__Uploads__TokenLimit"] = "500",
            ["Gateway__RateLimits__Uploads__TokensPerPeriod"] = "100",
        }.Where(e => gatewaySettings?.ContainsKey(e.Key) != true).Concat(gatewaySettings ?? new Dictionary<string, string>()));

        var chaos = new ChaosApp(rulesFile, workDirectory);
        await chaos.StartAsync(builder);
        chaos.Ingest = new HttpClient { BaseAddress = chaos.App.GetEndpoint("ingest"), Timeout = TimeSpan.FromSeconds(30) };
        return chaos;
    }

    /// <summary>Replaces the fault rules the workers apply (read again by them whenever the file changes).</summary>
    public async Task SetFaultsAsync(params FaultSpec[] rules)
    {
        var temp = RulesFile + ".new";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(new { rules }, Json));
        File.Move(temp, RulesFile, overwrite: true);
        // A fresh modification time even within the file system's timestamp granularity.
        File.SetLastWriteTimeUtc(RulesFile, DateTime.UtcNow.AddMilliseconds(Random.Shared.Next(1, 1000)));
    }

    /// <summary>Every document's status, from the list API (a request per 100 documents, not one per document).</summary>
    public async Task<IReadOnlyDictionary<string, string>> StatusesAsync()
    {
        var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var uri = "/api/documents?limit=100" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await Gateway.GetAsync(new Uri(uri, UriKind.Relative));
            response.EnsureSuccessStatusCode();
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
            {
                statuses[item.GetProperty("id").GetString()!] = item.GetProperty("status").GetString()!;
            }

            cursor = page.RootElement.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        return statuses;
    }

    public static string StageStatus(JsonElement document, string stage) =>
        document.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("name").GetString() == stage).GetProperty("status").GetString()!;

    /// <summary>Writes every replica's recent console output to files in <paramref name="folder"/> (for a failure's post-mortem).</summary>
    public void DumpLogs(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var (replica, lines) in App.AllLogs())
        {
            File.WriteAllText(Path.Combine(folder, replica + ".log"), lines);
        }
    }

    /// <summary>Waits until <paramref name="stage"/> of the document is reported running.</summary>
    public Task WaitForStageRunningAsync(string id, string stage, TimeSpan timeout) =>
        Eventually.UntilAsync(async () => StageStatus(await GetDocumentAsync(id), stage) == Contracts.StageStatus.Running,
            timeout, $"stage {stage} of {id} is running\n{Diagnostics()}", TimeSpan.FromMilliseconds(100));

    public async Task<IReadOnlyList<DocumentEvent>> EventsAsync(string id) =>
        (await Ingest.GetFromJsonAsync<List<DocumentEvent>>(new Uri(InternalApi.Events(id), UriKind.Relative), Json))!;

    /// <summary>The replica index of the worker holding the document's current lease (its consumer name is the replica's id).</summary>
    public async Task<int> LeaseHolderAsync(string id)
    {
        var claim = (await EventsAsync(id)).Last(e => e.Kind == DocumentEventKinds.Claimed);
        return ReplicaOf(claim.Worker!);
    }

    public int ReplicaOf(string consumer) => App.IndexOf(Workers, consumer);

    /// <summary>kill -9 the worker replica and keep it down (so another worker must take over) until <see cref="RestartAsync"/>.</summary>
    public Task KillAndHoldAsync(int replica) => App.KillAndHoldReplicaAsync(Workers, replica);

    /// <summary>Starts a held-down replica again; completes once it is healthy.</summary>
    public Task RestartAsync(int replica) => App.StartReplicaAsync(Workers, replica);

    /// <summary>Sends a signal to a worker process (STOP pauses it, CONT resumes it).</summary>
    public Task SignalAsync(int replica, string signal) => App.SignalAsync(Workers, replica, signal);

    public async Task<ConnectionMultiplexer> ConnectRedisAsync() =>
        await ConnectionMultiplexer.ConnectAsync(await App.GetConnectionStringAsync("redis") + ",abortConnect=false");

    public string CheckpointFile(string id, string stage) => Path.Combine(IngestRoot, "checkpoints", id, stage + ".ckpt");

    /// <summary>The lease token recorded in the envelope header of a stored checkpoint.</summary>
    public long CheckpointLeaseOnDisk(string id, string stage)
    {
        var header = File.ReadAllBytes(CheckpointFile(id, stage)).AsSpan(0, 512);
        var text = System.Text.Encoding.UTF8.GetString(header)["SUITE-CHECKPOINT\n".Length..].Trim();
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("leaseToken").GetInt64();
    }

    /// <summary>Waits until Redis holds no job at all: both jobs streams empty (acknowledged entries are deleted), nothing pending, no retry waiting.</summary>
    public async Task WaitUntilQueueDrainedAsync(TimeSpan timeout)
    {
        await using var redis = await ConnectRedisAsync();
        var db = redis.GetDatabase();
        async Task<bool> EmptyAsync(string stream) =>
            await db.StreamLengthAsync(stream) == 0
            && (!await db.KeyExistsAsync(stream) || (await db.StreamPendingAsync(stream, JobStreams.ConsumerGroup)).PendingMessageCount == 0);
        await Eventually.UntilAsync(async () =>
            await EmptyAsync(JobStreams.Jobs) && await EmptyAsync(JobStreams.BatchJobs)
            && await db.SortedSetLengthAsync(JobStreams.Delayed) == 0,
            timeout, "no job left in Redis (jobs streams, pending lists, retry set)");
    }

    protected override bool ExplainsFailures(string resource) => resource is "ingest" or Workers;

    protected override async Task<string> DescribeAsync(string id) => string.Join("\n", await EventsAsync(id)) + "\n";

    public override async ValueTask DisposeAsync()
    {
        Ingest?.Dispose();
        // A worker left paused (SIGSTOP) by a failed test must not hold the shutdown up.
        foreach (var replica in App.GetReplicas(Workers).Where(r => r.ProcessId is not null))
        {
            try
            {
                await ProcessTree.SignalAsync(replica.ProcessId!.Value, "CONT");
            }
            catch (InvalidOperationException)
            {
            }
        }

        await base.DisposeAsync();
    }
}

/// <summary>A fault rule as the workers read it from the rules file (see PipelineWorker's FaultInjection).</summary>
public sealed record FaultSpec(string Stage, string Action, string Match, double Seconds = 0, long MaxAttempt = 0);

/// <summary>The chaos tests share one suite and run one after the other (they kill its processes).</summary>
[CollectionDefinition("chaos")]
public sealed class ChaosCollection : ICollectionFixture<ChaosFixture>;

/// <summary>One chaos suite (3 workers) shared by the tests of the "chaos" collection.</summary>
public sealed class ChaosFixture : IAsyncLifetime
{
    private ChaosApp? _app;

    public ChaosApp App => _app ?? throw new InvalidOperationException("The chaos suite is not started.");

    public async Task InitializeAsync() => _app = await ChaosApp.StartAsync(workers: 3);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
