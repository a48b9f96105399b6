using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Suite.AppHost.Dashboard;
using Suite.AppHost.Processes;

namespace Suite.AppHost.Hosting;

/// <summary>
/// The running suite: starts redis and the projects in dependency order (WaitFor = healthy first), supervises
/// every replica, serves the dashboard, and stops everything in reverse dependency order.
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private const int LogLinesInErrors = 25;

    private readonly DistributedApplicationBuilder _builder;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HttpClient _probeClient = HttpReadinessProbe.CreateClient();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private IReadOnlyDictionary<Resource, ResourceRuntime> _runtimes = new Dictionary<Resource, ResourceRuntime>();
    private DashboardServer? _dashboard;
    private Task? _startTask;
    private Task? _stopTask;
    private bool _disposed;

    internal DistributedApplication(DistributedApplicationBuilder builder)
    {
        _builder = builder;
        _loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        });
        _logger = _loggerFactory.CreateLogger("apphost");
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args) => DistributedApplicationBuilder.CreateBuilder(args);

    public SuiteOptions Options => _builder.Options;

    public string EnvironmentName => _builder.EnvironmentName;

    /// <summary>Where redis and the services keep their data.</summary>
    public string DataDirectory => _builder.DataDirectory;

    public IReadOnlyList<Resource> Resources => _builder.Resources;

    /// <summary>The dashboard, which is also the OTLP/HTTP endpoint every service exports to.</summary>
    public Uri DashboardUrl => _dashboard?.Url ?? throw NotStarted();

    internal bool DeleteDataDirectoryOnDispose { get; set; }

    /// <summary>Starts every resource; completes when all of them are healthy.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_startTask is not null)
            {
                throw new InvalidOperationException("The application was started already.");
            }

            _startTask = StartCoreAsync(cancellationToken);
            return _startTask;
        }
    }

    /// <summary>Stops every resource in reverse dependency order (SIGTERM, SIGKILL after the stop timeout).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _stopTask ??= StopCoreAsync();
            return _stopTask.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Starts, runs until Ctrl+C / SIGINT / SIGTERM (or <paramref name="cancellationToken"/>), then stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = ShutdownSignals.Register(
            onFirst: signal =>
            {
                Log.StopRequested(_logger, signal);
                BeginStopping();
                stop.Cancel();
            },
            onAgain: signal =>
            {
                Log.KillRequested(_logger, signal);
                KillAllNow();
            });
        try
        {
            await StartAsync(stop.Token);
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            await StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The command-line way to run: a start-up problem is printed as one clear message with exit code 1;
    /// a stop on request exits 0.
    /// </summary>
    public void Run()
    {
        try
        {
            RunAsync().GetAwaiter().GetResult();
        }
        catch (DistributedApplicationException ex)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
            Console.Error.WriteLine();
            Console.Error.WriteLine("AppHost failed: " + ex.Message);
            Environment.ExitCode = 1;
            return;
        }

        DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    public Uri GetEndpoint(string resource, int replica = 0) => Supervisor(resource, replica).Plan.Url;

    public IReadOnlyList<ReplicaInfo> GetReplicas(string resource) =>
        Runtime(resource).Supervisors.Select(s => s.Snapshot()).ToList();

    /// <summary>The environment the replica's process was given (the Aspire contract plus the app model's own).</summary>
    public IReadOnlyDictionary<string, string> GetEnvironment(string resource, int replica = 0) =>
        Supervisor(resource, replica).Plan.Spec.Environment;

    /// <summary>The connection string consumers of a connection-string resource get (redis: <c>127.0.0.1:port</c>).</summary>
    public string GetConnectionString(string resource)
    {
        var runtime = Runtime(resource);
        return runtime.Resource is RedisResource
            ? EnvironmentContract.RedisConnectionString(runtime.Supervisors[0].Plan.Port)
            : throw new InvalidOperationException($"{runtime.Resource} has no connection string.");
    }

    /// <summary>SIGKILL, as a crash. With restart on exit the supervisor starts it again (same port and env).</summary>
    public Task KillReplicaAsync(string resource, int replica, CancellationToken cancellationToken = default) =>
        Supervisor(resource, replica).KillAsync(cancellationToken);

    /// <summary>Stops a replica gracefully and keeps it down until <see cref="StartReplicaAsync"/>.</summary>
    public Task StopReplicaAsync(string resource, int replica, CancellationToken cancellationToken = default) =>
        Supervisor(resource, replica).HoldDownAsync(cancellationToken);

    /// <summary>Starts a replica held down by <see cref="StopReplicaAsync"/>; completes when it is healthy.</summary>
    public async Task StartReplicaAsync(string resource, int replica, CancellationToken cancellationToken = default)
    {
        var supervisor = Supervisor(resource, replica);
        supervisor.Release();
        await WaitHealthyAsync([supervisor], Options.StartTimeout, cancellationToken);
    }

    /// <summary>Completes when every replica of <paramref name="resource"/> is running and healthy.</summary>
    public Task WaitForHealthyAsync(string resource, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitHealthyAsync(Runtime(resource).Supervisors, timeout, cancellationToken);

    /// <summary>The replica's recent console lines (stdout and stderr, plus the supervisor's own events).</summary>
    public string GetRecentLogs(string resource, int replica = 0) => Supervisor(resource, replica).Logs.Text();

    /// <summary>Every resource's state and health at one moment; Overall is Healthy only if every replica is.</summary>
    public ApplicationStatus GetStatus()
    {
        var runtimes = _runtimes;
        var resources = Resources.Select(resource =>
        {
            var replicas = runtimes.TryGetValue(resource, out var runtime)
                ? runtime.Supervisors.Select(s => s.Snapshot()).ToList()
                : [];
            return ResourceStatus.From(resource, replicas);
        }).ToList();
        var overall = resources.Count > 0 && resources.All(r => r.Health == ResourceHealth.Healthy)
            ? ResourceHealth.Healthy
            : ResourceHealth.Unhealthy;
        return new ApplicationStatus(overall, DateTimeOffset.UtcNow, resources);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        if (_startTask is not null)
        {
            await StopAsync(CancellationToken.None);
            await WhenAllQuietlyAsync([_startTask]);
        }

        if (_dashboard is not null)
        {
            await _dashboard.DisposeAsync();
        }

        _probeClient.Dispose();
        _stopping.Dispose();
        _loggerFactory.Dispose();
        if (DeleteDataDirectoryOnDispose)
        {
            DeleteQuietly(DataDirectory);
        }
    }

    internal LogBuffer? FindLogs(string resource, int replica) =>
        _runtimes.Values.FirstOrDefault(r => string.Equals(r.Resource.Name, resource, StringComparison.OrdinalIgnoreCase)) is { } runtime
        && replica >= 0 && replica < runtime.Supervisors.Count
            ? runtime.Supervisors[replica].Logs
            : null;

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        var problems = FindStartProblems();
        if (problems.Count > 0)
        {
            throw new DistributedApplicationException(
                "the application cannot start:" + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p)));
        }

        Directory.CreateDirectory(DataDirectory);
        if (!ProcessLauncher.ChildrenDieWithAppHost)
        {
            Log.NoParentDeathSignal(_logger);
        }

        _dashboard = await DashboardServer.StartAsync(this, Options.DashboardPort, cancellationToken);
        Console.Out.WriteLine($"Dashboard: {_dashboard.Url.GetLeftPart(UriPartial.Authority)}");

        _runtimes = CreateRuntimes(_dashboard.Url);
        _stopping.Token.ThrowIfCancellationRequested();
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var pending = _runtimes.Values.Select(r => StartResourceAsync(r, startup.Token)).ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (!done.IsCompletedSuccessfully)
            {
                await startup.CancelAsync();
                await WhenAllQuietlyAsync(pending);
                await done;
            }
        }

        Console.Out.Write(SummaryTable());
    }

    private static async Task WhenAllQuietlyAsync(IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception ex) when (ex is OperationCanceledException or DistributedApplicationException)
        {
            // The first failure is the one reported.
        }
    }

    private async Task StartResourceAsync(ResourceRuntime runtime, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var waits = ResourceGraph.WaitsOf(runtime.Resource).Select(w => _runtimes[w]).ToList();
        if (waits.Count > 0)
        {
            foreach (var supervisor in runtime.Supervisors)
            {
                supervisor.MarkWaiting();
            }

            Log.WaitingForDependencies(_logger, runtime.Resource.Name, string.Join(", ", waits.Select(w => w.Resource.Name)));
            await Task.WhenAll(waits.SelectMany(w => w.Supervisors).Select(s => s.WaitUntilHealthyAsync(cancellationToken)));
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (var supervisor in runtime.Supervisors)
        {
            supervisor.Start();
        }

        await WaitHealthyAsync(runtime.Supervisors, Options.StartTimeout, cancellationToken);
    }

    private static async Task WaitHealthyAsync(IReadOnlyList<ReplicaSupervisor> supervisors, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await Task.WhenAll(supervisors.Select(s => s.WaitUntilHealthyAsync(deadline.Token)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DistributedApplicationException(DescribeUnhealthy(supervisors, timeout));
        }
    }

    private static string DescribeUnhealthy(IReadOnlyList<ReplicaSupervisor> supervisors, TimeSpan timeout)
    {
        var text = new StringBuilder();
        var resource = supervisors[0].Plan.Resource;
        text.Append(CultureInfo.InvariantCulture, $"'{resource.Name}' did not become healthy within {timeout.TotalSeconds:F0} s.");
        foreach (var supervisor in supervisors.Where(s => !s.Snapshot().IsHealthy))
        {
            var info = supervisor.Snapshot();
            text.AppendLine();
            text.Append(CultureInfo.InvariantCulture,
                $"  {info.InstanceName}: state {info.State}, last health check: {info.HealthDetail ?? "none yet"}, restarts {info.Restarts}");
            if (info.LastExitCode is { } code)
            {
                text.Append(CultureInfo.InvariantCulture, $", last exit code {code}");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $". Last console lines of {info.InstanceName}:");
            foreach (var line in supervisor.Logs.Tail(LogLinesInErrors))
            {
                text.Append("    | ").AppendLine(line);
            }
        }

        return text.ToString().TrimEnd();
    }

    private async Task StopCoreAsync()
    {
        await Task.Yield();
        BeginStopping();
        var depths = ResourceGraph.Depths(Resources);
        foreach (var level in _runtimes.Values.GroupBy(r => depths[r.Resource]).OrderByDescending(g => g.Key))
        {
            Log.StoppingLevel(_logger, string.Join(", ", level.Select(r => r.Resource.Name)));
            await Task.WhenAll(level.SelectMany(r => r.Supervisors).Select(s => s.StopAsync()));
        }
    }

    /// <summary>From now on no process is restarted; a start in progress is cancelled.</summary>
    private void BeginStopping()
    {
        foreach (var supervisor in _runtimes.Values.SelectMany(r => r.Supervisors))
        {
            supervisor.BeginShutdown();
        }

        _stopping.Cancel();
    }

    private void KillAllNow()
    {
        foreach (var supervisor in _runtimes.Values.SelectMany(r => r.Supervisors))
        {
            supervisor.KillNow();
        }
    }

    /// <summary>Everything that would make the start fail, found before anything starts.</summary>
    private List<string> FindStartProblems()
    {
        var problems = new List<string>(_builder.ConfigurationErrors);
        problems.AddRange(Options.Validate());
        problems.AddRange(ResourceGraph.Validate(Resources));

        if (Resources.OfType<RedisResource>().Any() && Executables.FindOnPath("redis-server") is null)
        {
            problems.Add("redis-server was not found on PATH. Install it: apt-get install -y redis-server");
        }

        if (Resources.OfType<ProjectResource>().Any() && Executables.FindDotnetHost() is null)
        {
            problems.Add("The dotnet host was not found (not on PATH, no DOTNET_HOST_PATH or DOTNET_ROOT).");
        }

        foreach (var project in Resources.OfType<ProjectResource>())
        {
            var assembly = _builder.Paths.ProjectAssembly(project.ProjectName);
            if (!File.Exists(assembly))
            {
                problems.Add($"'{project.Name}' is not built: {assembly} is missing. Build first: dotnet build Suite.sln");
            }
        }

        foreach (var resource in Resources)
        {
            if (resource.Annotations.OfType<HttpEndpointAnnotation>().LastOrDefault()?.Port is { } port && !PortAllocator.IsFree(port))
            {
                problems.Add($"Port {port} for '{resource.Name}' is in use. Free it or choose another port"
                    + (resource.Name == "gateway" ? " with --Suite:GatewayPort=<port> (0 = any free port)." : "."));
            }
        }

        return problems;
    }

    private Dictionary<Resource, ResourceRuntime> CreateRuntimes(Uri dashboardUrl)
    {
        var fixedPorts = Resources.ToDictionary(r => r, r => r.Annotations.OfType<HttpEndpointAnnotation>().LastOrDefault()?.Port);
        var free = new Queue<int>(PortAllocator.AllocateFree(Resources.Where(r => fixedPorts[r] is null).Sum(r => r.Replicas)));
        var ports = Resources.ToDictionary(
            r => r,
            r => (IReadOnlyList<int>)(fixedPorts[r] is { } port ? [port] : Enumerable.Range(0, r.Replicas).Select(_ => free.Dequeue()).ToList()));

        var context = new ContractContext(EnvironmentName, dashboardUrl, ports, Options);
        var echo = Options.EchoLogs ? new ConsoleEcho() : null;
        var dotnet = Executables.FindDotnetHost() ?? "dotnet";
        var redisServer = Executables.FindOnPath("redis-server") ?? "redis-server";

        var runtimes = new Dictionary<Resource, ResourceRuntime>();
        foreach (var resource in Resources)
        {
            var restart = resource.Annotations.OfType<RestartPolicyAnnotation>().LastOrDefault()?.RestartOnExit ?? Options.RestartOnExit;
            var supervisors = ports[resource].Select((port, index) =>
            {
                var (spec, url, probe) = resource switch
                {
                    ProjectResource project => ProjectLaunch(project, index, port, context, dotnet),
                    RedisResource redis => RedisLaunch(redis, port, redisServer),
                    _ => throw new NotSupportedException($"{resource} cannot be started."),
                };
                var plan = new ReplicaPlan(resource, index, port, url, spec, probe, restart);
                return new ReplicaSupervisor(plan, Options.StopTimeout, _logger, echo);
            }).ToList();
            runtimes[resource] = new ResourceRuntime(resource, supervisors);
        }

        return runtimes;
    }

    private (ProcessSpec, Uri, IHealthProbe) ProjectLaunch(ProjectResource project, int index, int port, ContractContext context, string dotnet)
    {
        var assembly = _builder.Paths.ProjectAssembly(project.ProjectName);
        var spec = new ProcessSpec(dotnet, [assembly], Path.GetDirectoryName(assembly)!, EnvironmentContract.ForProject(project, index, context));
        var url = new Uri(EnvironmentContract.HttpUrl(port));
        return (spec, url, new HttpReadinessProbe(url, _probeClient));
    }

    /// <summary>redis-server with AOF (appendfsync everysec), no RDB snapshots, noeviction; a restart replays the AOF.</summary>
    private (ProcessSpec, Uri, IHealthProbe) RedisLaunch(RedisResource redis, int port, string redisServer)
    {
        var dir = Path.Combine(DataDirectory, redis.Name);
        Directory.CreateDirectory(dir);
        var portText = port.ToString(CultureInfo.InvariantCulture);
        string[] args =
        [
            "--bind", EnvironmentContract.Host, "--port", portText,
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--maxmemory-policy", "noeviction", "--dir", dir,
        ];
        var spec = new ProcessSpec(redisServer, args, dir, new Dictionary<string, string>());
        return (spec, new Uri($"tcp://{EnvironmentContract.Host}:{portText}"), new RedisPingProbe(port));
    }

    private string SummaryTable()
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"RESOURCE",-18} {"REPLICA",-7} {"STATE",-10} {"HEALTH",-9} {"PID",-8} URL");
        foreach (var runtime in _runtimes.Values)
        {
            foreach (var info in runtime.Supervisors.Select(s => s.Snapshot()))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{info.Resource,-18} {info.Index,-7} {info.State,-10} {info.Health,-9} {info.ProcessId,-8} {info.Url}");
            }
        }

        text.AppendLine();
        foreach (var runtime in _runtimes.Values.Where(r => r.Resource.Annotations.OfType<HttpEndpointAnnotation>().Any()))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  >> {runtime.Resource.Name}: {runtime.Supervisors[0].Plan.Url.GetLeftPart(UriPartial.Authority)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  >> Dashboard: {_dashboard?.Url.GetLeftPart(UriPartial.Authority)}");
        text.AppendLine("  Ctrl+C stops everything.");
        return text.ToString();
    }

    private ResourceRuntime Runtime(string resource)
    {
        if (_runtimes.Count == 0)
        {
            throw NotStarted();
        }

        var model = _builder.FindResource(resource);
        return _runtimes[model];
    }

    private ReplicaSupervisor Supervisor(string resource, int replica)
    {
        var runtime = Runtime(resource);
        return replica >= 0 && replica < runtime.Supervisors.Count
            ? runtime.Supervisors[replica]
            : throw new ArgumentOutOfRangeException(nameof(replica), replica, $"'{resource}' has {runtime.Supervisors.Count} replica(s).");
    }

    private static InvalidOperationException NotStarted() => new("The application has not been started (call StartAsync first).");

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record ResourceRuntime(Resource Resource, IReadOnlyList<ReplicaSupervisor> Supervisors);
}

/// <summary>One resource on the dashboard: aggregated state and health plus each replica.</summary>
public sealed record ResourceStatus(
    string Name,
    string Kind,
    string State,
    ResourceHealth Health,
    int Replicas,
    IReadOnlyList<Uri> Endpoints,
    IReadOnlyList<ReplicaInfo> Instances)
{
    internal static ResourceStatus From(Resource resource, IReadOnlyList<ReplicaInfo> replicas)
    {
        var states = replicas.Select(r => r.State).Distinct().ToList();
        var state = states.Count switch
        {
            0 => nameof(ReplicaState.Pending),
            1 => states[0].ToString(),
            _ => string.Join(", ", replicas.GroupBy(r => r.State).Select(g => $"{g.Key} x{g.Count()}")),
        };
        var health = replicas.Count > 0 && replicas.All(r => r.IsHealthy) ? ResourceHealth.Healthy
            : replicas.Any(r => r.Health == ResourceHealth.Unhealthy || r.State is ReplicaState.Exited or ReplicaState.Restarting) ? ResourceHealth.Unhealthy
            : ResourceHealth.Unknown;
        return new ResourceStatus(resource.Name, resource.Kind, state, health, resource.Replicas, replicas.Select(r => r.Url).ToList(), replicas);
    }
}

/// <summary>The whole suite's health in one place (HC-5).</summary>
public sealed record ApplicationStatus(ResourceHealth Overall, DateTimeOffset At, IReadOnlyList<ResourceStatus> Resources);
