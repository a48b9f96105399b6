using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>
/// redis-server paused with SIGSTOP: it keeps its socket and accepts connections but never answers (a hung Redis, a
/// black hole), then resumed with SIGCONT. Nothing may wait on it past its timeout, and nothing may be lost.
/// </summary>
[Collection("chaos")]
public sealed class RedisHangTests(ChaosFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan StopFor = TimeSpan.FromSeconds(20);
    private const int MaxRounds = 8;

    // The bounds follow from the configured timeouts, with room for a busy 2-core machine:
    // - liveness checks no dependency at all: 2 s is already generous for a loopback call;
    // - readiness runs its checks in parallel, each with its own timeout inside the 5 s budget (Redis PING 3 s, the
    //   workers' engines 4 s, the catalog 3 s): 6 s;
    // - a read (status, list) never touches Redis; an upload waits at most Queue:EnqueueTimeoutMs (2 s) for its XADD
    //   and leaves the job to the sweeper; a Redis command gives up after Redis:CommandTimeoutMs (5 s): 10 s;
    // - a Prometheus scrape of ingest waits at most Queue:MetricsTimeoutMs (1 s) for the queue gauges: 4 s.
    private static readonly TimeSpan LiveBound = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan ApiBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MetricsBound = TimeSpan.FromSeconds(4);

    private sealed record Call(string Name, TimeSpan Bound, TimeSpan Took, int Status, string Body)
    {
        public bool InTime => Took <= Bound;

        public override string ToString() => $"{Name}: {(Status == 0 ? "no answer" : Status.ToString(System.Globalization.CultureInfo.InvariantCulture))} in {Took.TotalMilliseconds:F0} ms (bound {Bound.TotalSeconds:F0} s)";
    }

    private sealed record Service(string Name, Uri Address, bool UsesRedis);

    [Fact]
    [Trait("Req", "TMO-5")]
    [Trait("Req", "TMO-6")]
    public async Task A_hung_redis_hangs_no_request_or_probe_and_after_it_resumes_every_document_completes()
    {
        var app = fixture.App;
        await app.SetFaultsAsync();
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await app.UploadAcceptedAsync(pdf, $"hang-before-{i}.pdf"));
        }

        List<Service> services =
        [
            new("gateway", app.App.GetEndpoint("gateway"), false),
            new("ingest", app.App.GetEndpoint("ingest"), true),
            new("labeling-bridge", app.App.GetEndpoint("labeling-bridge"), false),
        ];
        for (var i = 0; i < app.WorkerCount; i++)
        {
            services.Add(new($"{ChaosApp.Workers}[{i}]", await app.App.GetReplicaEndpointAsync(ChaosApp.Workers, i), true));
        }

        // A client's own timeout well past every bound: an overrun is measured and reported, not a test that hangs.
        using var probe = new HttpClient { Timeout = ApiBound + TimeSpan.FromSeconds(10) };
        using var gateway = app.App.CreateGatewayClient(timeout: ApiBound + TimeSpan.FromSeconds(10), honourRateLimits: false);
        var ingest = app.App.GetEndpoint("ingest");

        var redisPid = await app.App.ProcessIdOfAsync("redis", 0);
        var calls = new List<Call>();
        var during = new List<string>();
        var clock = Stopwatch.StartNew();
        await ProcessTree.SignalAsync(redisPid, "STOP");
        output.WriteLine($"redis pid {redisPid} stopped (SIGSTOP)");
        try
        {
            for (var round = 0; round < MaxRounds && clock.Elapsed < StopFor; round++)
            {
                // Every probe and call of a round at once, as orchestrator probes and clients would send them.
                var pending = new List<Task<Call>>();
                foreach (var service in services)
                {
                    pending.Add(TimeAsync($"{service.Name} live", LiveBound, () => probe.GetAsync(new Uri(service.Address, "/health/live"))));
                    pending.Add(TimeAsync($"{service.Name} ready", ReadyBound, () => probe.GetAsync(new Uri(service.Address, "/health/ready"))));
                }

                pending.Add(TimeAsync("status via gateway", ApiBound, () => gateway.GetAsync(new Uri($"/api/documents/{ids[0]}", UriKind.Relative))));
                pending.Add(TimeAsync("list via gateway", ApiBound, () => gateway.GetAsync(new Uri("/api/documents?limit=20", UriKind.Relative))));
                pending.Add(TimeAsync("ingest metrics", MetricsBound, () => probe.GetAsync(new Uri(ingest, "/metrics"))));
                pending.Add(TimeAsync("upload via gateway", ApiBound, () => gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), Pdf(pdf, $"hang-during-{round}.pdf"))));
                var results = await Task.WhenAll(pending);
                calls.AddRange(results);
                foreach (var upload in results.Where(c => c.Name == "upload via gateway" && c.Status == (int)HttpStatusCode.Accepted))
                {
                    using var json = JsonDocument.Parse(upload.Body);
                    during.Add(json.RootElement.GetProperty("id").GetString()!);
                }

                output.WriteLine($"round {round} at {clock.Elapsed.TotalSeconds:F1} s: slowest {results.MaxBy(c => c.Took)}");
            }

            // The pause lasts its whole duration even when the rounds were quick (a fixed condition, not a wait for one).
            if (clock.Elapsed < StopFor)
            {
                await Task.Delay(StopFor - clock.Elapsed);
            }
        }
        finally
        {
            // Never leave Redis paused for the rest of the collection, whatever failed above.
            await ProcessTree.SignalAsync(redisPid, "CONT");
            output.WriteLine($"redis resumed (SIGCONT) after {clock.Elapsed.TotalSeconds:F1} s");
        }

        foreach (var group in calls.GroupBy(c => c.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{group.Key}: {group.Count()} calls, max {group.Max(c => c.Took).TotalMilliseconds:F0} ms, statuses {string.Join(",", group.Select(c => c.Status).Distinct())}");
        }

        // Every call came back within its bound.
        var late = calls.Where(c => !c.InTime).ToList();
        Assert.True(late.Count == 0, "over their bound while Redis hung:\n" + string.Join("\n", late));
        Assert.True(calls.Count(c => c.Name == "upload via gateway") >= 3, $"only {calls.Count(c => c.Name == "upload via gateway")} rounds ran in {StopFor.TotalSeconds:F0} s");

        // Liveness never depends on Redis; readiness of the services that need Redis says so, the others stay ready.
        Assert.All(calls.Where(c => c.Name.EndsWith(" live", StringComparison.Ordinal)), c => Assert.True(c.Status == 200, c.ToString()));
        foreach (var service in services)
        {
            var ready = calls.Where(c => c.Name == $"{service.Name} ready").ToList();
            if (service.UsesRedis)
            {
                Assert.True(ready.Any(c => c.Status == 503 && NamesUnhealthyRedis(c.Body)),
                    $"{service.Name} never reported Redis unready: {string.Join("; ", ready.Select(c => c + " " + c.Body))}");
            }
            else
            {
                Assert.True(ready.All(c => c.Status == 200), $"{service.Name} became unready without needing Redis: {string.Join("; ", ready.Select(c => c + " " + c.Body))}");
            }
        }

        // Reads come from the catalog; uploads are accepted (the catalog is the durable record, the sweeper queues
        // them later) or refused with a problem, never left hanging.
        Assert.All(calls.Where(c => c.Name is "status via gateway" or "list via gateway"), c => Assert.True(c.Status == 200, c + " " + c.Body));
        foreach (var upload in calls.Where(c => c.Name == "upload via gateway"))
        {
            Assert.True(upload.Status == 202 || (upload.Status == 503 && upload.Body.Contains("\"code\"", StringComparison.Ordinal)), upload + " " + upload.Body);
        }

        output.WriteLine($"{during.Count} uploads accepted while Redis hung");

        // Resumed: every document uploaded before and during the pause completes, once, and every service is ready again.
        foreach (var id in ids.Concat(during))
        {
            var document = await app.WaitForTerminalAsync(id, TimeSpan.FromMinutes(2));
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{id}: {document}\n{app.Diagnostics()}");
            Assert.Single(await app.EventsAsync(id), e => e.Kind == DocumentEventKinds.Completed);
        }

        output.WriteLine($"every document completed {clock.Elapsed.TotalSeconds:F1} s after the pause began");
        foreach (var service in services)
        {
            await Eventually.UntilAsync(async () =>
            {
                using var response = await probe.GetAsync(new Uri(service.Address, "/health/ready"));
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(60), $"{service.Name} is ready again", TimeSpan.FromMilliseconds(500));
        }

        await app.App.WaitForHealthyAsync("ingest", TimeSpan.FromSeconds(60));
        await app.App.WaitForHealthyAsync(ChaosApp.Workers, TimeSpan.FromSeconds(60));
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<Call> TimeAsync(string name, TimeSpan bound, Func<Task<HttpResponseMessage>> send)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            return new Call(name, bound, clock.Elapsed, (int)response.StatusCode, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Call(name, bound, clock.Elapsed, 0, ex.Message);
        }
    }

    private static MultipartFormDataContent Pdf(byte[] content, string fileName)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        return new MultipartFormDataContent { { file, "file", fileName } };
    }

    /// <summary>A readiness report whose redis check is unhealthy.</summary>
    private static bool NamesUnhealthyRedis(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("checks").TryGetProperty("redis", out var redis)
                && redis.GetProperty("status").GetString() == "Unhealthy";
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
