using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Suite.Contracts;
using Suite.Testing.Events;

namespace Suite.IntegrationTests;

/// <summary>One suite for the progress stream tests: 2 workers with fault injection, short heartbeats, a large request bucket.</summary>
public sealed class ProgressStreamSuite : IAsyncLifetime
{
    public const int HeartbeatSeconds = 2;
    private ChaosApp? _app;

    public ChaosApp App => _app ?? throw new InvalidOperationException("The suite is not started.");

    public async Task InitializeAsync()
    {
        _app = await ChaosApp.StartAsync(
            workers: 2,
            ingestSettings: new Dictionary<string, string>
            {
                ["Events__HeartbeatSeconds"] = HeartbeatSeconds.ToString(CultureInfo.InvariantCulture),
                ["Events__HeartbeatTimeoutSeconds"] = HeartbeatSeconds.ToString(CultureInfo.InvariantCulture),
                ["Events__ProgressIntervalMs"] = "200",
            },
            gatewaySettings: new Dictionary<string, string>
            {
                // One key opens a few hundred streams at once here; the default request bucket (200) is the front door's test.
                ["Gateway__RateLimits__Requests__TokenLimit"] = "2000",
                ["Gateway__RateLimits__Requests__TokensPerPeriod"] = "1000",
            });
        // Slow enough to come and go mid-processing, quick enough for the CI budget.
        await App.SetFaultsAsync(new FaultSpec(PipelineStageNames.Layout, "slow", "slow-*.pdf", Seconds: 4));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// Progress streams of the whole suite, through the real gateway with the API key, while real workers process real
/// PDFs (slowed down in one stage by fault injection, so clients can come and go mid-processing): resumption over SSE and
/// WebSocket checked against the full history, IngestService restarted under following clients, a storm of 200
/// clients with the liveness endpoints timed, and a WebSocket client that vanishes without closing.
/// </summary>
[Collection("pipeline-suite")]
public sealed class ProgressStreamSuiteTests(ProgressStreamSuite suite) : IClassFixture<ProgressStreamSuite>
{
    private const int HeartbeatSeconds = ProgressStreamSuite.HeartbeatSeconds;
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private readonly ChaosApp _app = suite.App;

    private HttpClient Gateway => _app.Gateway;

    private Uri Ws(string id, long after) =>
        WebSocketText.ToWebSocket(new Uri(_app.App.GetEndpoint("gateway"), $"{EventRoutes.DocumentSocket(id)}?after={after.ToString(CultureInfo.InvariantCulture)}"));

    private static readonly Dictionary<string, string> KeyHeader = new() { ["X-Api-Key"] = GatewayApiKeyExtensions.DevelopmentKey };

    private Task<string> UploadSlowAsync(string name, int pages = 4) => _app.UploadAcceptedAsync(GeneratedReport.Build(pages), $"slow-{name}.pdf");

    /// <summary>The document's whole history, read through the gateway after its end.</summary>
    private async Task<IReadOnlyList<ReceivedEvent>> HistoryAsync(string id)
    {
        await using var full = EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(id));
        await full.WaitFinishedAsync(Wait);
        Assert.True(full.EndStatus == DocumentStatus.Completed, full.Describe());
        Assert.Equal(Enumerable.Range(1, full.Events.Count).Select(i => (long)i), full.Events.Select(e => e.Seq));
        return full.Events;
    }

    private static void AssertSameHistory(IReadOnlyList<ReceivedEvent> history, IEnumerable<ReceivedEvent> received, string who)
    {
        var got = received.ToList();
        Assert.True(history.Select(e => e.Json).SequenceEqual(got.Select(e => e.Json)),
            $"{who}: got seq [{string.Join(",", got.Select(e => e.Seq))}], history has 1..{history.Count}");
    }

    [Fact]
    [Trait("Req", "WS-1")]
    [Trait("Req", "WS-2")]
    public async Task A_sse_client_that_disconnects_mid_processing_and_reconnects_with_its_last_id_gets_every_missed_event_once_in_order()
    {
        var id = await UploadSlowAsync("sse-resume");
        List<ReceivedEvent> first;
        await using (var sse = EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(id)))
        {
            await Eventually.UntilAsync(() => sse.Events.Any(e => e.Type == ProgressEventTypes.StageStarted), Wait,
                $"the first stage started ({sse.Describe()})\n{_app.Diagnostics()}");
            first = [.. sse.Events];
        }

        // Away while the pipeline goes on (layout is held 4 s): events happen that this client does not see.
        await _app.WaitForStageRunningAsync(id, PipelineStageNames.Layout, Wait);
        await using var back = EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(id), lastEventId: first[^1].Id);
        await back.WaitFinishedAsync(Wait);
        Assert.Equal(DocumentStatus.Completed, back.EndStatus);
        Assert.Equal(first[^1].Seq + 1, back.Events[0].Seq);
        AssertSameHistory(await HistoryAsync(id), first.Concat(back.Events), "SSE first + resumed");
        Assert.Contains(back.Events, e => e.Type == ProgressEventTypes.StageDegraded || e.Type == ProgressEventTypes.StageCompleted);
    }

    [Fact]
    [Trait("Req", "WS-1")]
    [Trait("Req", "WS-2")]
    public async Task A_websocket_client_authenticated_as_a_browser_does_resumes_with_after_and_gets_every_missed_event_once_in_order()
    {
        var id = await UploadSlowAsync("ws-resume");
        var browserKey = WebSocketText.BrowserKeyProtocols(GatewayApiKeyExtensions.DevelopmentKey);
        List<ReceivedEvent> first;
        await using (var ws = EventFollower.WebSocket(Ws(id, 0), subProtocols: browserKey))
        {
            await Eventually.UntilAsync(() => ws.Events.Any(e => e.Type == ProgressEventTypes.StageStarted), Wait,
                $"the first stage started ({ws.Describe()})\n{_app.Diagnostics()}");
            Assert.Equal("suite-events", ws.SubProtocol);
            first = [.. ws.Events];
        }

        await _app.WaitForStageRunningAsync(id, PipelineStageNames.Layout, Wait);
        await using var back = EventFollower.WebSocket(Ws(id, first[^1].Seq), headers: KeyHeader);
        await back.WaitFinishedAsync(Wait);
        Assert.True(back.EndStatus == DocumentStatus.Completed && back.CloseStatus == System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, back.Describe());
        AssertSameHistory(await HistoryAsync(id), first.Concat(back.Events), "WebSocket first + resumed");
    }

    [Fact]
    [Trait("Req", "WS-6")]
    [Trait("Req", "SD-3")]
    [Trait("Req", "WS-2")]
    public async Task IngestService_restarted_while_clients_follow_documents_the_clients_reconnect_through_the_gateway_and_lose_nothing()
    {
        var ids = new[] { await UploadSlowAsync("restart-a"), await UploadSlowAsync("restart-b") };
        var connected = new Dictionary<string, int>();
        var following = ids.SelectMany(id => new[]
        {
            Follow(id, after => EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(id), lastEventId: after), $"sse {id}"),
            Follow(id, after => EventFollower.WebSocket(Ws(id, after), headers: KeyHeader), $"ws {id}"),
        }).ToList();

        async Task<(string Id, string Who, IReadOnlyList<ReceivedEvent> Events, int Connections, IReadOnlyList<string> Closes)> Follow(
            string id, Func<long, EventFollower> connect, string who)
        {
            var (events, _, connections, closes) = await ResumingFollower.FollowToEndAsync(connect, 0, Wait);
            return (id, who, events, connections, closes);
        }

        // Every client is following, mid-processing; then ingest is stopped (SIGTERM) and started again.
        await Eventually.UntilAsync(async () =>
        {
            var statuses = await Task.WhenAll(ids.Select(async id => RunningSuite.Status(await _app.GetDocumentAsync(id))));
            return statuses.All(s => s == DocumentStatus.Processing);
        }, Wait, "both documents are being processed");
        await _app.App.StopReplicaAsync("ingest", 0);
        await _app.App.StartReplicaAsync("ingest", 0);

        var results = await Task.WhenAll(following);
        foreach (var id in ids)
        {
            var history = await HistoryAsync(id);
            foreach (var result in results.Where(r => r.Id == id))
            {
                AssertSameHistory(history, result.Events, result.Who);
                Assert.True(result.Connections >= 2, $"{result.Who} reconnected: {string.Join(" / ", result.Closes)}");
            }
        }

        // The WebSockets were told to reconnect (1012, naming where to resume).
        Assert.Contains(results.Where(r => r.Who.StartsWith("ws", StringComparison.Ordinal)).SelectMany(r => r.Closes),
            close => close.Contains("service_restart; last seq", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "WS-5")]
    public async Task Two_hundred_clients_connecting_at_once_all_get_their_events_while_health_live_stays_responsive()
    {
        const int Clients = 200;
        var ids = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => UploadSlowAsync($"storm-{i}", pages: 2)));
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var liveness = new[] { new Uri(_app.App.GetEndpoint("ingest"), "/health/live"), new Uri(_app.App.GetEndpoint("gateway"), "/health/live") };
        var timings = new List<(string Where, double Ms, int Status)>();
        using var stopProbing = new CancellationTokenSource();
        var probing = Task.Run(async () =>
        {
            while (!stopProbing.IsCancellationRequested)
            {
                foreach (var uri in liveness)
                {
                    var clock = Stopwatch.StartNew();
                    using var response = await probe.GetAsync(uri, CancellationToken.None);
                    lock (timings)
                    {
                        timings.Add((uri.Authority, clock.Elapsed.TotalMilliseconds, (int)response.StatusCode));
                    }
                }

                await Task.Delay(50, CancellationToken.None);
            }
        });

        // All at once: half SSE, half WebSocket, each following one of the documents from its start to its end.
        var storm = Enumerable.Range(0, Clients).Select(i =>
        {
            var id = ids[i % ids.Length];
            Func<long, EventFollower> connect = i % 2 == 0
                ? after => EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(id), lastEventId: after)
                : after => EventFollower.WebSocket(Ws(id, after), headers: KeyHeader);
            return Task.Run(async () => (Id: id, Result: await ResumingFollower.FollowToEndAsync(connect, 0, Wait)));
        }).ToList();
        var results = await Task.WhenAll(storm);
        await stopProbing.CancelAsync();
        await probing;

        foreach (var id in ids)
        {
            var history = await HistoryAsync(id);
            Assert.All(results.Where(r => r.Id == id), r => AssertSameHistory(history, r.Result.Events, $"storm client of {id}"));
        }

        List<(string Where, double Ms, int Status)> seen;
        lock (timings)
        {
            seen = [.. timings];
        }

        Assert.True(seen.Count > 20, $"liveness was probed {seen.Count} times");
        Assert.All(seen, t => Assert.Equal(200, t.Status));
        var worst = seen.Max(t => t.Ms);
        Assert.True(worst < 2000, $"/health/live took up to {worst:F0} ms during the storm (p95 {seen.Select(t => t.Ms).Order().ElementAt((int)(seen.Count * 0.95)):F0} ms)");
        Assert.True(results.Count(r => r.Result.Connections == 1) >= Clients * 9 / 10,
            $"nearly every client got everything on its first connection ({results.Count(r => r.Result.Connections == 1)} of {Clients})");
    }

    [Fact]
    [Trait("Req", "PERF-1")]
    public async Task With_50_uploads_at_once_10_live_progress_clients_and_the_workers_busy_api_p95_stays_under_500_ms_and_health_under_100_ms()
    {
        // Ten clients follow interactive documents (the workers take them first); fifty batch uploads arrive at once and
        // keep both workers busy afterwards.
        var followed = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => UploadSlowAsync($"perf-{i}")));
        var followers = Enumerable.Range(0, 10).Select(i => i % 2 == 0
            ? EventFollower.Sse(Gateway, EventRoutes.DocumentEvents(followed[i % 2]))
            : EventFollower.WebSocket(Ws(followed[i % 2], 0), headers: KeyHeader)).ToList();
        var api = new List<double>();
        var health = new List<double>();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var live = new Uri(_app.App.GetEndpoint("ingest"), "/health/live");
        using var stop = new CancellationTokenSource();
        var sampling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var (list, send) in new (List<double>, Func<Task<HttpResponseMessage>>)[]
                         {
                             (api, () => Gateway.GetAsync(new Uri($"/api/documents/{followed[0]}", UriKind.Relative))),
                             (api, () => Gateway.GetAsync(new Uri("/api/documents?limit=20", UriKind.Relative))),
                             (health, () => probe.GetAsync(live)),
                         })
                {
                    var clock = Stopwatch.StartNew();
                    using var response = await send();
                    Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode}");
                    lock (list)
                    {
                        list.Add(clock.Elapsed.TotalMilliseconds);
                    }
                }

                await Task.Delay(20, CancellationToken.None);
            }
        });

        var pdf = GeneratedReport.Build(3);
        var uploads = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(pdf), "file", $"perf-batch-{i}.pdf" } };
            form.First().Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
            var clock = Stopwatch.StartNew();
            using var response = await Gateway.PostAsync(new Uri("/api/documents?priority=batch", UriKind.Relative), form);
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"upload {i}: {(int)response.StatusCode}");
            return clock.Elapsed.TotalMilliseconds;
        }));
        await Eventually.UntilAsync(async () =>
            (await Task.WhenAll(followed.Select(async id => RunningSuite.Status(await _app.GetDocumentAsync(id))))).All(DocumentStatus.IsTerminal),
            Wait, "the followed documents end while the batch waits");
        await Task.WhenAll(followers.Select(f => f.WaitFinishedAsync(Wait)));
        await stop.CancelAsync();
        await sampling;

        static double P95(List<double> values) => values.Order().ElementAt((int)(values.Count * 0.95));
        Assert.True(api.Count > 20 && health.Count > 10, $"sampled {api.Count} API calls, {health.Count} health calls");
        Assert.True(P95(api) < 500, $"API p95 {P95(api):F0} ms over {api.Count} calls (max {api.Max():F0} ms); uploads took up to {uploads.Max():F0} ms");
        Assert.True(P95(health) < 100, $"/health/live p95 {P95(health):F0} ms over {health.Count} calls (max {health.Max():F0} ms)");
        Assert.All(followers, f => Assert.True(f.EndStatus == DocumentStatus.Completed, f.Describe()));
        foreach (var follower in followers)
        {
            await follower.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Req", "WS-3")]
    public async Task A_websocket_client_that_vanishes_without_closing_is_detected_through_the_gateway_within_the_heartbeat_timeout()
    {
        var id = await UploadSlowAsync("vanish");
        await using var proxy = StallingProxy.Start(_app.App.GetEndpoint("gateway"));
        var throughProxy = WebSocketText.ToWebSocket(new Uri(proxy.Address, EventRoutes.DocumentSocket(id)));
        await using var ws = EventFollower.WebSocket(throughProxy, headers: KeyHeader);
        await ws.WaitForEventsAsync(2, Wait);

        var vanished = DateTimeOffset.UtcNow;
        proxy.Stall();
        var closed = await proxy.UpstreamClosed.WaitAsync(TimeSpan.FromSeconds(30));
        var detected = closed - vanished;
        Assert.True(detected < TimeSpan.FromSeconds(HeartbeatSeconds * 2 + 3),
            $"the gateway closed the vanished client's connection after {detected.TotalSeconds:F1} s (heartbeat {HeartbeatSeconds} s + timeout {HeartbeatSeconds} s)");
    }
}
