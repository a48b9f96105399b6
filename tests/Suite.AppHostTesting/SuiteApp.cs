using System.Collections.Concurrent;
using System.Collections.Immutable;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Suite.Testing;

/// <summary>One process of a resource (a replica), as the AppHost last reported it.</summary>
/// <param name="Index">Replica index (0 for a resource without replicas).</param>
/// <param name="Id">Aspire's resource id of the replica (DCP name, e.g. pipeline-worker-abcd1234): also the worker's consumer name.</param>
/// <param name="ProcessId">The service's own process: for a project the child of <c>dotnet run</c>, for an executable the process itself.</param>
public sealed record Replica(int Index, string Id, string? State, string? Health, int? ProcessId, int? ExitCode, int Restarts)
{
    public bool IsHealthy => State == "Running" && Health is null or "Healthy";
}

/// <summary>
/// The suite's real AppHost (Program.cs of AppHost/) started through Aspire.Hosting.Testing, with what tests do to its
/// processes: read states, logs, endpoints; kill, hold down, stop and start replicas. Create with
/// <see cref="SuiteAppBuilder"/>.
/// </summary>
public sealed class SuiteApp : IAsyncDisposable
{
    private const int LogLinesKept = 2000;
    private readonly ConcurrentDictionary<string, ResourceEvent> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _logs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _watchers = [];
    private readonly bool _keepDataDirectory;

    internal SuiteApp(DistributedApplication app, string dataDirectory, bool keepDataDirectory)
    {
        App = app;
        DataDirectory = dataDirectory;
        _keepDataDirectory = keepDataDirectory;
        Notifications = app.Services.GetRequiredService<ResourceNotificationService>();
        Commands = app.Services.GetRequiredService<ResourceCommandService>();
        Model = app.Services.GetRequiredService<DistributedApplicationModel>();
        _watchers.Add(Task.Run(WatchStatesAsync));
    }

    public DistributedApplication App { get; }

    /// <summary>Suite:DataDir of this run: redis/, ingest/, labeling-bridge/ and whatever the test puts there.</summary>
    public string DataDirectory { get; }

    public ResourceNotificationService Notifications { get; }

    public ResourceCommandService Commands { get; }

    public DistributedApplicationModel Model { get; }

    /// <summary>
    /// Names of the suite's own resources: every one is supervised (restart on crash); parameters and Aspire's helper
    /// resources (such as the per-project rebuilders) are not.
    /// </summary>
    public IReadOnlyList<string> Resources =>
        Model.Resources.Where(r => r.TryGetLastAnnotation<RestartOnCrashAnnotation>(out _)).Select(r => r.Name).ToList();

    /// <summary>Starts every resource and waits until each is running and healthy.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await App.StartAsync(cancel.Token);
            foreach (var name in Resources)
            {
                await WaitForHealthyAsync(name, timeout);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            throw new TimeoutException($"The suite did not become healthy within {timeout.TotalSeconds:F0} s.\n{Describe()}\n{Diagnostics(_ => true, 30)}", ex);
        }
    }

    /// <summary>Name of the resource Aspire adds for its dashboard (only when built with <c>dashboard: true</c>).</summary>
    public const string DashboardResource = "aspire-dashboard";

    /// <summary>Where the Aspire dashboard serves its pages (only when built with <c>dashboard: true</c>).</summary>
    public Uri GetDashboardEndpoint() => App.GetEndpoint(DashboardResource, "http");

    /// <summary>
    /// The dashboard's login address with the browser token the AppHost generated for this run (<c>AppHost:BrowserToken</c>):
    /// opening it sets the auth cookie and redirects to the resources page, as the link the AppHost logs does.
    /// </summary>
    public Uri GetDashboardLoginUrl()
    {
        var token = App.Services.GetRequiredService<IConfiguration>()["AppHost:BrowserToken"]
            ?? throw new InvalidOperationException("The AppHost has no dashboard browser token (built without the dashboard?).");
        return new Uri(GetDashboardEndpoint(), "/login?t=" + Uri.EscapeDataString(token));
    }

    /// <summary>The http endpoint of a resource (for replicas: Aspire's proxy in front of them).</summary>
    public Uri GetEndpoint(string resource) => App.GetEndpoint(resource, "http");

    /// <summary>
    /// A client of the gateway that sends the development API key the AppHost gives the gateway by default and, unless
    /// told not to, waits out the gateway's rate limit as a well-behaved client does (<see cref="RateLimitRetryHandler"/>).
    /// </summary>
    public HttpClient CreateGatewayClient(string apiKey = GatewayApiKeyExtensions.DevelopmentKey, TimeSpan? timeout = null, bool honourRateLimits = true)
    {
        var client = honourRateLimits ? new HttpClient(new RateLimitRetryHandler()) : new HttpClient();
        client.BaseAddress = GetEndpoint("gateway");
        client.Timeout = timeout ?? TimeSpan.FromMinutes(2);
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>One replica's own address (not the proxy): the URL its process was told to listen on.</summary>
    public async Task<Uri> GetReplicaEndpointAsync(string resource, int index)
    {
        var urls = ProcessTree.EnvironmentOf(await ProcessIdOfAsync(resource, index))["ASPNETCORE_URLS"];
        return new Uri(urls.Split(';')[0]);
    }

    public async Task<string> GetConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"{resource} has no connection string.");

    /// <summary>The replicas of a resource in index order, as last reported.</summary>
    public IReadOnlyList<Replica> GetReplicas(string resource)
    {
        var model = Model.Resources.Single(r => r.Name == resource);
        var ids = _states.Values.Where(e => ReferenceEquals(e.Resource, model)).Select(e => e.ResourceId).Order(StringComparer.Ordinal);
        return ids.Select((id, index) =>
        {
            _states.TryGetValue(id, out var update);
            var snapshot = update?.Snapshot;
            var launcher = snapshot?.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
            {
                int pid => pid,
                long pid => (int)pid,
                string text when int.TryParse(text, out var pid) => pid,
                _ => (int?)null,
            };
            var running = snapshot?.State?.Text == KnownResourceStates.Running;
            var processId = launcher is { } p && running ? (model is ProjectResource ? ProcessTree.ChildrenOf(p).Cast<int?>().FirstOrDefault() : p) : null;
            var restarts = snapshot?.Properties.FirstOrDefault(x => x.Name == RestartOnCrashExtensions.RestartsProperty)?.Value is int r ? r : 0;
            return new Replica(index, id, snapshot?.State?.Text, snapshot?.HealthStatus?.ToString(), processId, snapshot?.ExitCode, restarts);
        }).ToList();
    }

    public Replica GetReplica(string resource, int index) => GetReplicas(resource)[index];

    /// <summary>Index of the replica with this id (a worker's consumer name is its replica's id).</summary>
    public int IndexOf(string resource, string replicaId) =>
        GetReplicas(resource).Single(r => r.Id == replicaId).Index;

    /// <summary>The service process of a running replica (waits a little for <c>dotnet run</c> to start it).</summary>
    public async Task<int> ProcessIdOfAsync(string resource, int index)
    {
        var pid = 0;
        await Eventually.UntilAsync(() => (pid = GetReplica(resource, index).ProcessId ?? 0) != 0,
            TimeSpan.FromSeconds(30), $"{resource}[{index}] has a running process ({GetReplica(resource, index)})");
        return pid;
    }

    /// <summary>Console lines of one replica (stdout and stderr as DCP captured them), the last 2000.</summary>
    public string GetRecentLogs(string resource, int index) =>
        _logs.TryGetValue(GetReplica(resource, index).Id, out var lines) ? string.Join('\n', lines) : "";

    /// <summary>Every console line the suite wrote so far, per replica id.</summary>
    public IReadOnlyDictionary<string, string> AllLogs() => _logs.ToDictionary(kv => kv.Key, kv => string.Join('\n', kv.Value));

    /// <summary>Waits until every replica of the resource is Running and, where it has health checks, Healthy.</summary>
    public Task WaitForHealthyAsync(string resource, TimeSpan timeout) =>
        Eventually.UntilAsync(() => GetReplicas(resource).Count == ExpectedReplicas(resource) && GetReplicas(resource).All(r => r.State == KnownResourceStates.Running && (r.Health is null or "Healthy")),
            timeout, $"every replica of {resource} is running and healthy: {string.Join(", ", GetReplicas(resource))}", TimeSpan.FromMilliseconds(200));

    /// <summary>kill -9 the replica's service process; the AppHost restarts it after its backoff (unless held).</summary>
    public async Task<int> KillReplicaAsync(string resource, int index)
    {
        var pid = await ProcessIdOfAsync(resource, index);
        await ProcessTree.SignalAsync(pid, "KILL");
        await Eventually.UntilAsync(() => GetReplica(resource, index).State != KnownResourceStates.Running,
            TimeSpan.FromSeconds(30), $"{resource}[{index}] is seen to exit after kill -9 of pid {pid}");
        return pid;
    }

    /// <summary>kill -9 the replica's service process and keep it down until <see cref="StartReplicaAsync"/>.</summary>
    public async Task<int> KillAndHoldReplicaAsync(string resource, int index)
    {
        await SetHoldAsync(resource, index, held: true);
        return await KillReplicaAsync(resource, index);
    }

    /// <summary>Aspire's stop command (SIGTERM, as the dashboard's Stop button); completes when the replica has exited.</summary>
    public async Task StopReplicaAsync(string resource, int index)
    {
        var replica = GetReplica(resource, index);
        // DCP marks the process to stop, then checks for a while whether it exited; a service draining its work can take
        // longer, and the command then reports a failure while DCP goes on stopping it. The exit is what counts.
        var result = await Commands.ExecuteCommandAsync(replica.Id, KnownResourceCommands.StopCommand);
        try
        {
            await Eventually.UntilAsync(() => GetReplica(resource, index).State is { } s && IsTerminal(s), TimeSpan.FromSeconds(60), $"{replica.Id} has stopped");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: {GetReplica(resource, index)}; the stop command said: {(result.Success ? "ok" : result.Message)}; " +
                $"its process {replica.ProcessId} is {(replica.ProcessId is { } pid && ProcessTree.IsAlive(pid) ? "alive" : "gone")}\n" +
                Diagnostics(name => name == resource, 40), ex);
        }
    }

    /// <summary>Aspire's start command for a stopped or held replica; completes once it is running and healthy.</summary>
    public async Task StartReplicaAsync(string resource, int index, TimeSpan? timeout = null)
    {
        await SetHoldAsync(resource, index, held: false);
        var replica = GetReplica(resource, index);
        var result = await Commands.ExecuteCommandAsync(replica.Id, KnownResourceCommands.StartCommand);
        if (!result.Success)
        {
            throw new InvalidOperationException($"start {replica.Id}: {result.Message}");
        }

        await Eventually.UntilAsync(() => GetReplica(resource, index) is { State: "Running", Health: null or "Healthy" },
            timeout ?? TimeSpan.FromSeconds(90), $"{replica.Id} is running and healthy again ({GetReplica(resource, index)})", TimeSpan.FromMilliseconds(200));
    }

    /// <summary>Sends a signal to a replica's service process (STOP pauses it, CONT resumes it).</summary>
    public async Task SignalAsync(string resource, int index, string signal) =>
        await ProcessTree.SignalAsync(await ProcessIdOfAsync(resource, index), signal);

    /// <summary>State of every replica, one line each.</summary>
    public string Describe() =>
        string.Join('\n', Resources.SelectMany(GetReplicas).Select(r => r.ToString()));

    /// <summary>The last lines of the chosen resources' replicas, to explain a failure.</summary>
    public string Diagnostics(Func<string, bool> resources, int lines = 25) =>
        string.Join("\n", Resources.Where(resources).SelectMany(name => GetReplicas(name).Select(r =>
            $"--- {r.Id} ({r.State}, pid {r.ProcessId}, restarts {r.Restarts}) ---\n" +
            string.Join('\n', _logs.TryGetValue(r.Id, out var q) ? q.TakeLast(lines) : []))));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await App.StopAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
        }

        await App.DisposeAsync();
        await Task.WhenAll(_watchers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));
        _stopping.Dispose();
        if (!_keepDataDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private int ExpectedReplicas(string resource) =>
        Model.Resources.Single(r => r.Name == resource).Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;

    private static bool IsTerminal(string state) => KnownResourceStates.TerminalStates.Contains(state) || state == "Terminated";

    private async Task SetHoldAsync(string resource, int index, bool held)
    {
        var model = Model.Resources.Single(r => r.Name == resource);
        var id = GetReplica(resource, index).Id;
        await Notifications.PublishUpdateAsync(model, id, s => s with
        {
            Properties = [.. s.Properties.Where(p => p.Name != RestartOnCrashExtensions.HoldProperty), new ResourcePropertySnapshot(RestartOnCrashExtensions.HoldProperty, held)],
        });
    }

    private async Task WatchStatesAsync()
    {
        try
        {
            await foreach (var update in Notifications.WatchAsync(_stopping.Token))
            {
                _states[update.ResourceId] = update;
                if (update.Resource is not ParameterResource && _logs.TryAdd(update.ResourceId, new ConcurrentQueue<string>()))
                {
                    lock (_watchers)
                    {
                        _watchers.Add(Task.Run(() => WatchLogsAsync(update.ResourceId)));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WatchLogsAsync(string resourceId)
    {
        var lines = _logs[resourceId];
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stopping.Token))
            {
                foreach (var line in batch)
                {
                    lines.Enqueue(line.Content);
                    while (lines.Count > LogLinesKept && lines.TryDequeue(out _))
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
