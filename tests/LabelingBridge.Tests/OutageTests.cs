using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LabelingBridge.LabelStudio;
using LabelingBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Resilience;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>Label Studio down, failing, throttling, hanging or slow: exports are kept and delivered once, nothing hangs.</summary>
public sealed class OutageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    [Trait("Req", "DEG-1")]
    public async Task Label_Studio_down_during_an_export_the_export_is_accepted_kept_and_delivered_once_when_it_is_back()
    {
        await using var s = await Scenario.StartAsync(throughProxy: true);
        var id = s.AddDocument(pages: 2);
        s.Proxy!.Down();

        var exportId = await s.RequestExportAsync(id);
        var held = await s.WaitForExportAsync(exportId,
            e => e.GetProperty("attempts").GetInt32() >= 1 && e.GetProperty("lastError").GetProperty("code").GetString() is "network" or "breaker_open",
            Wait, "the export failed an attempt because Label Studio is unreachable");
        Assert.Equal("pending", held.GetProperty("state").GetString());
        var (readyStatus, _) = await s.ReadinessAsync();
        Assert.Equal(HttpStatusCode.OK, readyStatus);

        s.Proxy.Up();
        var delivered = await s.WaitForExportAsync(exportId, "delivered", Wait);

        Assert.Equal(2, s.TasksOf(id).Count);
        Assert.Single(s.Emulator.Store.Projects(null));
        Assert.Equal(2, delivered.GetProperty("labelStudio").GetProperty("tasksCreated").GetInt32());
    }

    [Fact]
    [Trait("Req", "CB-1")]
    [Trait("Req", "CB-3")]
    [Trait("Req", "CB-4")]
    [Trait("Req", "HC-3")]
    public async Task A_5xx_burst_opens_the_breaker_calls_fail_fast_while_open_then_it_half_opens_and_closes()
    {
        await using var s = await Scenario.StartAsync();
        var tracker = s.Bridge.Services.GetRequiredService<CircuitBreakerStates>();
        var id = s.AddDocument(pages: 1);
        s.Emulator.Faults.ServerErrors(10_000, 500);

        var exportId = await s.RequestExportAsync(id);
        await Eventually.UntilAsync(() => s.Metrics.Gauge(CircuitBreakerStates.GaugeName) == (int)BreakerState.Open, Wait, "breaker gauge shows open");
        var open = tracker.History.Last(h => h.State == BreakerState.Open);
        var (status, body) = await s.ReadinessAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        var check = body.GetProperty("checks").GetProperty("label-studio");
        Assert.Equal("Degraded", check.GetProperty("status").GetString());
        Assert.Equal("open", check.GetProperty("data").GetProperty("breaker").GetString());
        Assert.Contains((await s.ExportAsync(exportId)).GetProperty("state").GetString(), new[] { "pending", "delivering" });

        s.Emulator.Faults.ServerErrors(0);
        await s.WaitForExportAsync(exportId, "delivered", Wait);
        await Eventually.UntilAsync(() => s.Metrics.Gauge(CircuitBreakerStates.GaugeName) == (int)BreakerState.Closed, Wait, "breaker gauge shows closed");

        // While open, nothing reached Label Studio: the emulator logged no request inside the break.
        var margin = TimeSpan.FromMilliseconds(50);
        Assert.DoesNotContain(s.Emulator.Requests.Snapshot(), r => r.At > open.Since + margin && r.At < open.OpenUntil!.Value - margin);
        var transitions = tracker.History.SkipWhile(h => h != open).Select(h => h.State).ToList();
        Assert.Equal([BreakerState.Open, BreakerState.HalfOpen, BreakerState.Closed], transitions.Take(3));
        Assert.True(s.Metrics.Sum("labeling_bridge.label_studio.errors", "error", "server_error") >= 1);
        Assert.True(s.Metrics.Sum("labeling_bridge.deliveries", "error", "breaker_open") >= 1);
        Assert.Equal("Healthy", (await s.ReadinessAsync()).Body.GetProperty("checks").GetProperty("label-studio").GetProperty("status").GetString());
        Assert.Single(s.TasksOf(id));
    }

    [Fact]
    [Trait("Req", "RTY-3")]
    [Trait("Req", "RTY-4")]
    public async Task A_429_with_Retry_After_is_retried_no_sooner_than_the_Retry_After()
    {
        await using var s = await Scenario.StartAsync();
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        var id = s.AddDocument(pages: 1);
        s.Emulator.Faults.Throttle(1, retryAfterSeconds: 2);

        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);

        var requests = s.Emulator.Requests.Snapshot();
        var throttled = Assert.Single(requests, r => r.Status == 429);
        var next = requests.First(r => r.At > throttled.At);
        Assert.True(next.At >= throttled.CompletedAt!.Value.AddSeconds(2) - TimeSpan.FromMilliseconds(20),
            $"the next request came {(next.At - throttled.CompletedAt!.Value).TotalMilliseconds:0} ms after the 429 with Retry-After: 2");
        Assert.True(s.Metrics.Sum("labeling_bridge.retries", "error", "throttled") >= 1);
        Assert.Single(s.TasksOf(id));
    }

    [Fact]
    [Trait("Req", "RTY-3")]
    public async Task A_Retry_After_longer_than_the_budget_ends_the_attempt_at_once_and_schedules_the_export_after_it()
    {
        await using var s = await Scenario.StartAsync();
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        s.Emulator.Faults.Throttle(1, retryAfterSeconds: 30);
        var clock = Stopwatch.StartNew();

        var export = await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)),
            e => e.TryGetProperty("lastError", out var error) && error.ValueKind == JsonValueKind.Object, Wait, "the throttled attempt is recorded");

        // The operation budget is 4 s: it gave up instead of waiting 30 s, and the export waits for the Retry-After.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.Equal("throttled", export.GetProperty("lastError").GetProperty("code").GetString());
        var throttled = Assert.Single(s.Emulator.Requests.Snapshot(), r => r.Status == 429);
        Assert.True(export.GetProperty("nextAttemptAt").GetDateTimeOffset() >= throttled.CompletedAt!.Value.AddSeconds(29));
        Assert.Empty(s.Emulator.Requests.Since(throttled.CompletedAt!.Value.AddMilliseconds(1)));
    }

    [Fact]
    [Trait("Req", "RTY-5")]
    public async Task An_import_whose_answer_was_a_5xx_after_Label_Studio_committed_it_is_retried_without_duplicating_tasks()
    {
        await using var s = await Scenario.StartAsync();
        var id = s.AddDocument(pages: 3);
        s.Emulator.Faults.FailImportsAfterCommit(1);

        var export = await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);

        Assert.Equal(3, s.TasksOf(id).Count);
        Assert.Single(s.Emulator.Requests.Snapshot(), r => r.Method == "POST" && r.Path.EndsWith("/import", StringComparison.Ordinal) && r.Status == 500);
        Assert.True(s.Metrics.Sum("labeling_bridge.retries", "operation", "import_tasks") >= 1);
        Assert.Equal(0, export.GetProperty("labelStudio").GetProperty("tasksCreated").GetInt32());
        Assert.Equal(3, export.GetProperty("labelStudio").GetProperty("tasksExisting").GetInt32());
    }

    [Fact]
    [Trait("Req", "TMO-1")]
    [Trait("Req", "TMO-6")]
    [Trait("Req", "TMO-7")]
    public async Task A_black_hole_gives_timeouts_classified_as_timeout_and_never_hangs_the_bridge()
    {
        await using var s = await Scenario.StartAsync(throughProxy: true);
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        s.Proxy!.BlackHole = true;
        s.Proxy.Down();
        s.Proxy.Up(); // cut pooled connections: every new one is swallowed

        var clock = Stopwatch.StartNew();
        var exportId = await s.RequestExportAsync(s.AddDocument(pages: 1));
        var timedOut = await s.WaitForExportAsync(exportId, e => e.GetProperty("lastError").ValueKind == JsonValueKind.Object &&
                                                                 e.GetProperty("lastError").GetProperty("code").GetString() == "timeout",
            Wait, "the export's last error is a timeout");

        // Bounded by the 4 s operation budget (2 s per attempt), not hung.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        Assert.Equal("pending", timedOut.GetProperty("state").GetString());
        Assert.True(s.Metrics.Sum("labeling_bridge.label_studio.errors", "error", "timeout") >= 1);
        Assert.True(s.Metrics.Sum("labeling_bridge.deliveries", "error", "timeout") >= 1);
        await AssertResponsiveAsync(s);

        s.Proxy.BlackHole = false;
        s.Proxy.Down();
        s.Proxy.Up();
        await s.WaitForExportAsync(exportId, "delivered", Wait);
    }

    [Fact]
    [Trait("Req", "TMO-1")]
    [Trait("Req", "TMO-7")]
    public async Task Latency_above_the_attempt_timeout_is_a_timeout_and_delivery_resumes_when_Label_Studio_is_fast_again()
    {
        await using var s = await Scenario.StartAsync();
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        s.Emulator.Faults.Latency = TimeSpan.FromSeconds(3);

        var exportId = await s.RequestExportAsync(s.AddDocument(pages: 2));
        await s.WaitForExportAsync(exportId, e => e.GetProperty("lastError").ValueKind == JsonValueKind.Object &&
                                                  e.GetProperty("lastError").GetProperty("code").GetString() == "timeout",
            Wait, "the slow answer is classified as a timeout");
        await AssertResponsiveAsync(s);

        s.Emulator.Faults.Latency = TimeSpan.Zero;
        await s.WaitForExportAsync(exportId, "delivered", Wait);
        Assert.True(s.Metrics.Sum("labeling_bridge.label_studio.errors", "error", "timeout") >= 1);
    }

    [Fact]
    [Trait("Req", "LS-4")]
    public async Task Requests_to_a_slow_Label_Studio_are_bounded_by_the_bulkhead_and_the_bridge_API_stays_fast()
    {
        await using var s = await Scenario.StartAsync(c =>
        {
            c["LabelStudio:MaxConcurrentRequests"] = "2";
            c["Outbox:DeliveryConcurrency"] = "4";
            c["LabelStudio:Timeouts:AttemptSeconds"] = "3";
            c["LabelStudio:Timeouts:TotalSeconds"] = "20";
        });
        await s.WaitForExportAsync(await s.RequestExportAsync(s.AddDocument(pages: 1)), "delivered", Wait);
        s.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(300);
        s.Emulator.Requests.ResetMaxInFlight();

        var exports = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            exports.Add(await s.RequestExportAsync(s.AddDocument(pages: 1)));
        }

        await AssertResponsiveAsync(s);
        foreach (var export in exports)
        {
            await s.WaitForExportAsync(export, "delivered", Wait);
        }

        Assert.InRange(s.Emulator.Requests.MaxInFlight, 1, 2);
    }

    /// <summary>The bridge's own API answers quickly whatever Label Studio does.</summary>
    private static async Task AssertResponsiveAsync(Scenario s)
    {
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/health/ready"), (HttpMethod.Get, "/health/live"), (HttpMethod.Post, $"/api/documents/{s.AddDocument(1)}/exports/label-studio") })
        {
            var clock = Stopwatch.StartNew();
            using var response = await s.Client.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)));
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode}");
            // Generous for a loaded CI machine, far below what waiting on Label Studio would take.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{method} {path} took {clock.Elapsed.TotalMilliseconds:0} ms");
        }
    }
}
