using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using IngestService.Events;
using Microsoft.Extensions.DependencyInjection;
using Suite.Contracts;
using Suite.Testing;
using Suite.Testing.Events;

namespace IngestService.Tests;

/// <summary>One redis-server for the event tests; each test starts its own IngestService on Kestrel (real sockets) with its settings.</summary>
public sealed class EventsFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();
}

/// <summary>
/// The event tests run alone: they stream thousands of events over real sockets, and the allocation and latency
/// measurements of other tests of this process must not count them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EventsCollection
{
    public const string Name = "events";
}

/// <summary>
/// Progress events of one IngestService over real sockets: the contract of both protocols (types, fields, seq, end),
/// resumption, heartbeats, dead and slow clients, restart and shutdown, the per-client feed and bounded page progress.
/// The worker is played through the internal API, so every event is known in advance.
/// </summary>
[Collection(EventsCollection.Name)]
public sealed class ProgressEventTests(EventsFixture fixture) : IClassFixture<EventsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private IngestHost StartHost(IReadOnlyDictionary<string, string?>? settings = null, string? root = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Events:HeartbeatSeconds"] = "1",
            ["Events:HeartbeatTimeoutSeconds"] = "1",
            ["Events:ProgressIntervalMs"] = "0",
            ["Events:PollIntervalMs"] = "500",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return IngestHost.Create(fixture.Redis.ConnectionString, all, root, kestrel: true).Start();
    }

    private static Uri Ws(IngestHost host, string path) => WebSocketText.ToWebSocket(new Uri(host.BaseAddress, path));

    private static string Sse(string id) => EventRoutes.DocumentEvents(id);

    private static string Socket(string id, long? after = null) => EventRoutes.DocumentSocket(id) + (after is { } a ? "?after=" + a.ToString(CultureInfo.InvariantCulture) : "");

    private static void AssertContiguous(IReadOnlyList<ReceivedEvent> events, long from = 1)
    {
        Assert.Equal(Enumerable.Range((int)from, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
    }

    [Fact]
    [Trait("Req", "WS-1")]
    public async Task Both_protocols_carry_every_state_change_with_contiguous_seq_then_end_and_a_late_client_gets_the_history()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "events.pdf");
        await using var sse = EventFollower.Sse(host.Client, Sse(id));
        await using var ws = EventFollower.WebSocket(Ws(host, Socket(id)));
        await sse.WaitForEventsAsync(2, Wait);
        await ws.WaitForEventsAsync(2, Wait);

        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running); // a retried report: no second event
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Completed);
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Running);
        for (var page = 1; page <= 3; page++)
        {
            Assert.True(await worker.ProgressAsync(PipelineStageNames.Extract, page, 3));
        }

        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Degraded, "page 2 could not be read");
        await worker.StageAsync(PipelineStageNames.Render, StageStatus.Skipped, "switched off by configuration");
        await worker.CompleteAsync();

        await sse.WaitFinishedAsync(Wait);
        await ws.WaitFinishedAsync(Wait);
        string[] expected =
        [
            "accepted", "queued", "claimed", "stage_started", "stage_completed", "stage_started", "page_progress", "page_progress", "page_progress",
            "stage_degraded", "stage_skipped", "completed",
        ];
        Assert.True(sse.Error is null && sse.EndStatus == "completed", sse.Describe());
        Assert.Equal(expected, sse.Events.Select(e => e.Type));
        AssertContiguous(sse.Events);
        Assert.All(sse.Events, e => Assert.Equal(e.Seq, e.Id));
        Assert.All(sse.Events, e => Assert.Equal(id, e.DocumentId));

        Assert.True(ws.EndStatus == "completed" && ws.CloseStatus == WebSocketCloseStatusNormal, ws.Describe());
        Assert.Equal(sse.Events.Select(e => e.Json), ws.Events.Select(e => e.Json));

        var events = sse.Events.Select(e => e.Element).ToList();
        Assert.Equal(["seq", "documentId", "type", "at", "stage", "status", "detail", "page", "pages"], events[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(DocumentStatus.Processing, events[2].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, events[2].GetProperty("stage").ValueKind);
        Assert.Equal((PipelineStageNames.Extract, StageStatus.Running, 2, 3),
            (events[7].GetProperty("stage").GetString(), events[7].GetProperty("status").GetString(), events[7].GetProperty("page").GetInt32(), events[7].GetProperty("pages").GetInt32()));
        Assert.Equal((PipelineStageNames.Extract, StageStatus.Degraded, "page 2 could not be read"),
            (events[9].GetProperty("stage").GetString(), events[9].GetProperty("status").GetString(), events[9].GetProperty("detail").GetString()));
        Assert.Equal("switched off by configuration", events[10].GetProperty("detail").GetString());
        Assert.Equal(DocumentStatus.Completed, events[11].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, events[11].GetProperty("page").ValueKind);

        // A client arriving after the end gets the whole history, then the end, on the wire exactly as documented.
        using var late = await host.Client.GetAsync(new Uri(Sse(id), UriKind.Relative));
        Assert.Equal("text/event-stream", late.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", late.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var text = await late.Content.ReadAsStringAsync();
        Assert.StartsWith($"id: 1\nevent: accepted\ndata: {sse.Events[0].Json}\n\nid: 2\nevent: queued\ndata: ", text, StringComparison.Ordinal);
        Assert.EndsWith($"id: 12\nevent: completed\ndata: {sse.Events[11].Json}\n\nevent: end\ndata: {{\"status\":\"completed\"}}\n\n", text, StringComparison.Ordinal);
        await using var lateWs = EventFollower.WebSocket(Ws(host, Socket(id)));
        await lateWs.WaitFinishedAsync(Wait);
        Assert.Equal(sse.Events.Select(e => e.Json), lateWs.Events.Select(e => e.Json));
        Assert.Equal("completed", lateWs.EndStatus);
    }

    private const System.Net.WebSockets.WebSocketCloseStatus WebSocketCloseStatusNormal = System.Net.WebSockets.WebSocketCloseStatus.NormalClosure;

    [Fact]
    [Trait("Req", "WS-1")]
    public async Task A_failed_stage_and_document_end_the_stream_with_status_failed_and_a_retry_continues_the_sequence()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "failing.pdf");
        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await worker.ReleaseAsync("Stage validate did not finish within 60 s");
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Failed, "The file is encrypted.");
        await worker.FailAsync("encrypted", "The file is encrypted.");

        await using var sse = EventFollower.Sse(host.Client, Sse(id));
        await sse.WaitFinishedAsync(Wait);
        Assert.Equal("failed", sse.EndStatus);
        Assert.Equal(["accepted", "queued", "claimed", "stage_started", "retried", "claimed", "stage_started", "stage_failed", "failed"],
            sse.Events.Select(e => e.Type));
        Assert.Equal("Stage validate did not finish within 60 s", sse.Events[4].Element.GetProperty("detail").GetString());
        Assert.Equal("encrypted: The file is encrypted.", sse.Events[8].Element.GetProperty("detail").GetString());

        // Retried by hand: the same sequence goes on; a stream from the failure sees the new run.
        using (var retry = await host.Client.PostAsync(new Uri($"/api/documents/{id}/retry", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }

        await using var again = EventFollower.WebSocket(Ws(host, Socket(id, after: 9)));
        await again.WaitForEventsAsync(2, Wait);
        Assert.Equal(["retried", "queued"], again.Events.Select(e => e.Type));
        AssertContiguous(again.Events, from: 10);
        Assert.Null(again.EndStatus);
    }

    [Fact]
    [Trait("Req", "WS-2")]
    public async Task A_client_that_reconnects_with_its_last_seq_gets_every_missed_event_exactly_once_in_order()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "resume.pdf");
        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);

        // First connections: SSE and WebSocket read what there is (4 events), then go away mid-processing.
        long sseLast, wsLast;
        List<ReceivedEvent> sseSeen, wsSeen;
        await using (var sse = EventFollower.Sse(host.Client, Sse(id)))
        await using (var ws = EventFollower.WebSocket(Ws(host, Socket(id))))
        {
            await sse.WaitForEventsAsync(4, Wait);
            await ws.WaitForEventsAsync(4, Wait);
            (sseLast, wsLast, sseSeen, wsSeen) = (sse.LastId, ws.LastId, [.. sse.Events], [.. ws.Events]);
        }

        // Missed while away.
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Completed);
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Running);
        await worker.ProgressAsync(PipelineStageNames.Extract, 1, 2);

        await using var sseBack = EventFollower.Sse(host.Client, Sse(id), lastEventId: sseLast);
        await using var wsBack = EventFollower.WebSocket(Ws(host, Socket(id, after: wsLast)));
        await using var byQuery = EventFollower.Sse(host.Client, Sse(id) + "?after=" + sseLast.ToString(CultureInfo.InvariantCulture));
        await sseBack.WaitForEventsAsync(3, Wait);
        await worker.ProgressAsync(PipelineStageNames.Extract, 2, 2);
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Completed);
        await worker.CompleteAsync();
        await Task.WhenAll(sseBack.WaitFinishedAsync(Wait), wsBack.WaitFinishedAsync(Wait), byQuery.WaitFinishedAsync(Wait));

        await using var full = EventFollower.Sse(host.Client, Sse(id));
        await full.WaitFinishedAsync(Wait);
        Assert.Equal(10, full.Events.Count);
        AssertContiguous(full.Events);
        Assert.Equal(full.Events.Select(e => e.Json), sseSeen.Concat(sseBack.Events).Select(e => e.Json));
        Assert.Equal(full.Events.Select(e => e.Json), wsSeen.Concat(wsBack.Events).Select(e => e.Json));
        Assert.Equal(full.Events.Select(e => e.Json), sseSeen.Concat(byQuery.Events).Select(e => e.Json));
        Assert.All([sseBack, wsBack, byQuery], f => Assert.Equal("completed", f.EndStatus));

        // Last-Event-ID (what EventSource sends on reconnect) wins over ?after=.
        await using var both = EventFollower.Sse(host.Client, Sse(id) + "?after=2", lastEventId: 7);
        await both.WaitFinishedAsync(Wait);
        Assert.Equal(8, both.Events[0].Seq);
    }

    [Fact]
    [Trait("Req", "WS-1")]
    [Trait("Req", "ERR-1")]
    public async Task A_stream_that_cannot_start_is_refused_with_a_problem()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "refused.pdf");
        var unknown = new string('a', 32);
        using (var response = await host.Client.GetAsync(new Uri(Sse(unknown), UriKind.Relative)))
        {
            await Api.AssertProblemAsync(response, 404, "document_not_found");
        }

        using (var response = await host.Client.GetAsync(new Uri(Sse(id) + "?after=seven", UriKind.Relative)))
        {
            Assert.Equal("after", (await Api.AssertProblemAsync(response, 400, "invalid_after")).GetProperty("parameter").GetString());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Sse(id), UriKind.Relative)))
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", "-1");
            using var response = await host.Client.SendAsync(request);
            Assert.Equal("Last-Event-ID", (await Api.AssertProblemAsync(response, 400, "invalid_after")).GetProperty("header").GetString());
        }

        using (var response = await host.Client.GetAsync(new Uri(EventRoutes.DocumentSocket(id), UriKind.Relative)))
        {
            await Api.AssertProblemAsync(response, 400, "websocket_required");
        }

        await using (var ws = EventFollower.WebSocket(Ws(host, Socket(unknown))))
        {
            await ws.WaitFinishedAsync(Wait);
            Assert.Equal(404, ws.HttpStatus);
        }

        using (var response = await host.Client.GetAsync(new Uri(EventRoutes.ClientEvents, UriKind.Relative)))
        {
            await Api.AssertProblemAsync(response, 400, "client_required");
        }
    }

    [Fact]
    [Trait("Req", "WS-3")]
    public async Task An_idle_sse_stream_sends_a_ping_comment_at_the_heartbeat_interval()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "idle.pdf");
        await using var sse = EventFollower.Sse(host.Client, Sse(id));
        await sse.WaitForEventsAsync(2, Wait);
        var clock = Stopwatch.StartNew();
        await Eventually.UntilAsync(() => sse.Heartbeats >= 3, TimeSpan.FromSeconds(10), "three heartbeats (interval 1 s)", TimeSpan.FromMilliseconds(50));
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 6);
        Assert.Equal(2, sse.Events.Count);
    }

    [Fact]
    [Trait("Req", "WS-3")]
    public async Task A_websocket_client_that_vanishes_without_closing_is_detected_within_the_heartbeat_timeout_and_cleaned_up()
    {
        await using var host = StartHost();
        var metrics = host.Services.GetRequiredService<EventMetrics>();
        using var drops = new DropListener(host.Services);
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "vanish.pdf");
        await using var proxy = StallingProxy.Start(host.BaseAddress);
        await using var ws = EventFollower.WebSocket(WebSocketText.ToWebSocket(new Uri(proxy.Address, Socket(id))));
        await ws.WaitForEventsAsync(2, Wait);
        Assert.Equal(1, metrics.Open);

        // The network goes away: no FIN, no RST, nothing passes. The server's Ping gets no Pong.
        var vanished = DateTimeOffset.UtcNow;
        proxy.Stall();
        var closed = await proxy.UpstreamClosed.WaitAsync(TimeSpan.FromSeconds(20));
        var detection = closed - vanished;
        Assert.True(detection < TimeSpan.FromSeconds(1 + 1 + 2), $"detected after {detection.TotalSeconds:F1} s (heartbeat 1 s + timeout 1 s)");
        await Eventually.UntilAsync(() => metrics.Open == 0, TimeSpan.FromSeconds(5), "the stream is cleaned up");
        Assert.Contains(("websocket", StreamCloseReasons.DeadPeer), drops.Drops);
    }

    [Fact]
    [Trait("Req", "WS-4")]
    public async Task A_client_that_stops_reading_is_dropped_once_its_buffer_fills_without_delaying_the_others_and_resumes_from_its_last_seq()
    {
        const int Events = 1500;
        await using var host = StartHost(new Dictionary<string, string?>
        {
            ["Events:BufferEvents"] = "16",
            // Were the streams coupled, the readers would wait this long behind a stalled client: the latency bound is below it.
            ["Events:SlowClientGraceMs"] = "3000",
            ["Events:SendTimeoutSeconds"] = "20",
            ["Events:CloseTimeoutSeconds"] = "15",
            ["Events:SocketSendBufferBytes"] = "4096",
            ["Events:HeartbeatSeconds"] = "120",
            ["Events:HeartbeatTimeoutSeconds"] = "120",
            ["Events:MaxProgressEventsPerDocument"] = "100000",
        });
        var metrics = host.Services.GetRequiredService<EventMetrics>();
        using var drops = new DropListener(host.Services);
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "slow.pdf");
        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Running);

        using var smallBuffers = new HttpClient(WebSocketText.Handler(receiveBufferBytes: 4096)) { BaseAddress = host.BaseAddress };
        await using var stalledWs = EventFollower.WebSocket(Ws(host, Socket(id)), receiveBufferBytes: 4096, read: false);
        await using var stalledSse = EventFollower.Sse(smallBuffers, Sse(id), readBody: false);
        List<EventFollower> readers =
        [
            EventFollower.Sse(host.Client, Sse(id)),
            EventFollower.Sse(host.Client, Sse(id)),
            EventFollower.WebSocket(Ws(host, Socket(id))),
            EventFollower.WebSocket(Ws(host, Socket(id))),
        ];
        await Task.WhenAll(readers.Select(r => r.WaitForEventsAsync(4, Wait)).Append(stalledWs.Connected).Append(stalledSse.Connected));
        await Eventually.UntilAsync(() => metrics.Open == 6, Wait, "six streams open");

        for (var page = 1; page <= Events; page++)
        {
            await worker.ProgressAsync(PipelineStageNames.Extract, page, Events);
        }

        // Both stalled clients are dropped as slow consumers; the readers are not.
        await Eventually.UntilAsync(() => drops.Drops.Count(d => d.Reason == StreamCloseReasons.SlowConsumer) >= 2, Wait,
            $"both stalled clients dropped ({string.Join(", ", drops.Drops)})", TimeSpan.FromMilliseconds(20));
        stalledWs.Resume!();
        stalledSse.Resume!();
        Assert.Equal([("sse", StreamCloseReasons.SlowConsumer), ("websocket", StreamCloseReasons.SlowConsumer)], drops.Drops.Order());

        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Completed);
        await worker.CompleteAsync();
        await Task.WhenAll(readers.Select(r => r.WaitFinishedAsync(Wait)));
        var total = 4 + Events + 2;
        foreach (var reader in readers)
        {
            Assert.True(reader.EndStatus == "completed" && reader.Events.Count == total, reader.Describe());
            AssertContiguous(reader.Events);
        }

        // Delivery to the readers, measured from each event's time to its arrival while the stalled clients filled up
        // and were dropped: the stalled ones delayed nobody (a reader held up by them would wait the 3 s grace).
        var latencies = readers.SelectMany(r => r.Events.Where(e => e.Type == ProgressEventTypes.PageProgress)).Select(e => e.Latency.TotalMilliseconds).Order().ToList();
        var p95 = latencies[(int)(latencies.Count * 0.95)];
        var max = latencies[^1];
        Assert.True(p95 < 1000 && max < 2500, $"reader delivery latency p95 {p95:F0} ms, max {max:F0} ms over {latencies.Count} events");

        // The stalled clients read what had reached them, then the server's reason; they resume from their last seq.
        await Task.WhenAll(stalledWs.WaitFinishedAsync(Wait), stalledSse.WaitFinishedAsync(Wait));
        Assert.True(stalledWs.Events.Count < total && stalledSse.Events.Count < total, $"{stalledWs.Describe()}\n{stalledSse.Describe()}");
        Assert.True((int?)stalledWs.CloseStatus == EventCloseCodes.SlowConsumer, stalledWs.Describe());
        Assert.StartsWith($"slow_consumer; last seq {stalledWs.LastId}; ", stalledWs.CloseDescription, StringComparison.Ordinal);
        Assert.Contains(stalledSse.Comments, c => c.StartsWith("dropped: slow_consumer", StringComparison.Ordinal) && c.Contains($"last id {stalledSse.LastId};", StringComparison.Ordinal));
        AssertContiguous(stalledWs.Events);
        AssertContiguous(stalledSse.Events);
        await using var wsBack = EventFollower.WebSocket(Ws(host, Socket(id, after: stalledWs.LastId)));
        await using var sseBack = EventFollower.Sse(host.Client, Sse(id), lastEventId: stalledSse.LastId);
        await Task.WhenAll(wsBack.WaitFinishedAsync(Wait), sseBack.WaitFinishedAsync(Wait));
        Assert.Equal(readers[0].Events.Select(e => e.Json), stalledWs.Events.Concat(wsBack.Events).Select(e => e.Json));
        Assert.Equal(readers[0].Events.Select(e => e.Json), stalledSse.Events.Concat(sseBack.Events).Select(e => e.Json));
        foreach (var reader in readers)
        {
            await reader.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Req", "WS-6")]
    public async Task The_history_survives_a_restart_of_the_service_and_the_sequence_goes_on()
    {
        var root = Directory.CreateTempSubdirectory("ingest-events-restart-").FullName;
        var first = StartHost(root: root);
        var id = await Api.UploadOkAsync(first.Client, Api.MinimalPdf, "restart.pdf");
        var worker = new FakeWorker(first.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Completed);
        List<ReceivedEvent> before;
        await using (var sse = EventFollower.Sse(first.Client, Sse(id)))
        {
            await sse.WaitForEventsAsync(5, Wait);
            before = [.. sse.Events];
        }

        await first.StopKeepingRootAsync();
        await using var second = StartHost(root: root);
        await using var resumed = EventFollower.Sse(second.Client, Sse(id), lastEventId: 3);
        await resumed.WaitForEventsAsync(2, Wait);
        Assert.Equal(before.Skip(3).Select(e => e.Json), resumed.Events.Select(e => e.Json));

        var next = new FakeWorker(second.Client, id, "another-worker");
        await next.ClaimAsync();
        await next.CompleteAsync();
        await resumed.WaitFinishedAsync(Wait);
        Assert.Equal(["stage_completed", "claimed", "completed"], resumed.Events.Skip(1).Select(e => e.Type));
        AssertContiguous(resumed.Events, from: 4);
    }

    [Fact]
    [Trait("Req", "WS-1")]
    [Trait("Req", "WS-6")]
    public async Task Any_replica_serves_any_stream_woken_at_once_by_another_replicas_writes_through_redis()
    {
        // Two replicas on one storage root: the worker writes through one, the client follows on the other. The
        // fallback poll is slowed to 20 s, so only the Redis notice can bring the events promptly.
        var root = Directory.CreateTempSubdirectory("ingest-events-replicas-").FullName;
        var slowPoll = new Dictionary<string, string?> { ["Events:PollIntervalMs"] = "20000" };
        await using var writer = StartHost(slowPoll, root);
        var id = await Api.UploadOkAsync(writer.Client, Api.MinimalPdf, "replicas.pdf");
        await using var reader = StartHost(slowPoll, root);
        await using var sse = EventFollower.Sse(reader.Client, Sse(id));
        await using var ws = EventFollower.WebSocket(Ws(reader, Socket(id)));
        await sse.WaitForEventsAsync(2, Wait);
        await ws.WaitForEventsAsync(2, Wait);

        var worker = new FakeWorker(writer.Client, id);
        await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await worker.CompleteAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(sse.WaitFinishedAsync(Wait), ws.WaitFinishedAsync(Wait));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the other replica's streams ended after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(["accepted", "queued", "claimed", "stage_started", "completed"], sse.Events.Select(e => e.Type));
        Assert.Equal(sse.Events.Select(e => e.Json), ws.Events.Select(e => e.Json));
        Assert.Equal("completed", ws.EndStatus);
    }

    [Fact]
    [Trait("Req", "WS-1")]
    public async Task With_redis_down_streams_still_deliver_every_event_within_the_poll_interval()
    {
        await using var host = StartHost();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "no-redis.pdf");
        await using var sse = EventFollower.Sse(host.Client, Sse(id));
        await sse.WaitForEventsAsync(2, Wait);
        fixture.Redis.Kill();
        try
        {
            var worker = new FakeWorker(host.Client, id);
            await worker.ClaimAsync();
            var clock = Stopwatch.StartNew();
            await sse.WaitForEventsAsync(3, Wait);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the claim arrived after {clock.Elapsed.TotalSeconds:F1} s (poll interval 0.5 s)");
            await worker.CompleteAsync();
            await sse.WaitFinishedAsync(Wait);
            Assert.Equal(["accepted", "queued", "claimed", "completed"], sse.Events.Select(e => e.Type));
        }
        finally
        {
            await fixture.Redis.RestartAsync();
        }
    }

    [Fact]
    [Trait("Req", "SD-3")]
    public async Task On_shutdown_websockets_close_with_1012_naming_the_last_seq_and_sse_streams_say_so_before_ending()
    {
        var host = StartHost();
        try
        {
            var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "shutdown.pdf");
            await using var ws = EventFollower.WebSocket(Ws(host, Socket(id)));
            await using var sse = EventFollower.Sse(host.Client, Sse(id));
            await ws.WaitForEventsAsync(2, Wait);
            await sse.WaitForEventsAsync(2, Wait);

            var stopping = host.StopKeepingRootAsync().AsTask();
            await Task.WhenAll(ws.WaitFinishedAsync(Wait), sse.WaitFinishedAsync(Wait));
            await stopping;
            Assert.True((int?)ws.CloseStatus == EventCloseCodes.ServiceRestart, ws.Describe());
            Assert.Equal("service_restart; last seq 2; reconnect with ?after=2", ws.CloseDescription);
            Assert.Null(sse.EndStatus);
            Assert.Contains("closing: the service is restarting; last id 2; reconnect with Last-Event-ID: 2", sse.Comments);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Req", "WS-1")]
    public async Task The_client_feed_streams_every_document_of_one_client_and_none_of_another_resuming_by_global_position()
    {
        await using var host = StartHost();
        using var alpha = new HttpClient { BaseAddress = host.BaseAddress };
        alpha.DefaultRequestHeaders.Add("X-Suite-Client", "alpha");
        using var beta = new HttpClient { BaseAddress = host.BaseAddress };
        beta.DefaultRequestHeaders.Add("X-Suite-Client", "beta");
        var a1 = await Api.UploadOkAsync(alpha, Api.MinimalPdf, "a1.pdf");
        var b1 = await Api.UploadOkAsync(beta, Api.MinimalPdf, "b1.pdf");
        var a2 = await Api.UploadOkAsync(alpha, Api.MinimalPdf, "a2.pdf");

        await using var feed = EventFollower.Sse(alpha, EventRoutes.ClientEvents);
        await feed.WaitForEventsAsync(4, Wait);
        var worker = new FakeWorker(host.Client, a1);
        await worker.ClaimAsync();
        await new FakeWorker(host.Client, b1).ClaimAsync();
        await worker.CompleteAsync();
        await feed.WaitForEventsAsync(6, Wait);

        Assert.Equal([a1, a1, a2, a2, a1, a1], feed.Events.Select(e => e.DocumentId));
        Assert.Equal(["accepted", "queued", "accepted", "queued", "claimed", "completed"], feed.Events.Select(e => e.Type));
        Assert.Equal([1L, 2, 1, 2, 3, 4], feed.Events.Select(e => e.Seq));
        Assert.True(feed.Events.Zip(feed.Events.Skip(1)).All(p => p.First.Id < p.Second.Id), "ids are increasing global positions");
        Assert.Null(feed.EndStatus);

        await using var resumed = EventFollower.Sse(alpha, EventRoutes.ClientEvents, lastEventId: feed.Events[3].Id);
        await resumed.WaitForEventsAsync(2, Wait);
        Assert.Equal(feed.Events.Skip(4).Select(e => e.Json), resumed.Events.Select(e => e.Json));
    }

    [Fact]
    [Trait("Req", "WS-1")]
    public async Task Page_progress_is_recorded_at_a_bounded_rate_and_count_only_while_its_stage_runs()
    {
        await using var host = StartHost(new Dictionary<string, string?>
        {
            ["Events:ProgressIntervalMs"] = "60000",
            ["Events:MaxProgressEventsPerDocument"] = "3",
        });
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "progress.pdf");
        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        Assert.False(await worker.ProgressAsync(PipelineStageNames.Extract, 1, 10), "a stage that is not running gets no progress");
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Running);
        var recorded = new List<bool>();
        for (var page = 1; page <= 10; page++)
        {
            recorded.Add(await worker.ProgressAsync(PipelineStageNames.Extract, page, 10));
        }

        // The first passes, the next within the interval do not, the last page of the stage always does.
        Assert.Equal([true, false, false, false, false, false, false, false, false, true], recorded);
        await worker.StageAsync(PipelineStageNames.Extract, StageStatus.Completed);
        await worker.StageAsync(PipelineStageNames.Render, StageStatus.Running);
        Assert.True(await worker.ProgressAsync(PipelineStageNames.Render, 4, 4));
        Assert.False(await worker.ProgressAsync(PipelineStageNames.Render, 4, 4), "the document's cap of 3 is reached");

        using (var bad = await worker.SendProgressAsync(PipelineStageNames.Render, 5, 4, worker.Lease))
        {
            await Api.AssertProblemAsync(bad, 400, "invalid_progress");
        }

        using (var stale = await worker.SendProgressAsync(PipelineStageNames.Render, 1, 4, worker.Lease + 7))
        {
            await Api.AssertProblemAsync(stale, 409, "stale_lease");
        }

        await using var sse = EventFollower.Sse(host.Client, Sse(id));
        await sse.WaitForEventsAsync(9, Wait);
        var progress = sse.Events.Where(e => e.Type == ProgressEventTypes.PageProgress).Select(e => e.Element).ToList();
        Assert.Equal([(1, 10), (10, 10), (4, 4)], progress.Select(p => (p.GetProperty("page").GetInt32(), p.GetProperty("pages").GetInt32())));
    }

    /// <summary>Records <c>suite.events.dropped</c> of one host (its meter factory's meters only).</summary>
    private sealed class DropListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Protocol, string Reason)> _drops = [];

        public DropListener(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "suite.events.dropped" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? protocol = null, reason = null;
                foreach (var tag in tags)
                {
                    (protocol, reason) = tag.Key switch
                    {
                        "protocol" => (tag.Value as string, reason),
                        "reason" => (protocol, tag.Value as string),
                        _ => (protocol, reason),
                    };
                }

                lock (_drops)
                {
                    _drops.Add((protocol!, reason!));
                }
            });
            _listener.Start();
        }

        public IReadOnlyList<(string Protocol, string Reason)> Drops
        {
            get
            {
                lock (_drops)
                {
                    return [.. _drops];
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
