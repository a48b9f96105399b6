using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using IngestService.Queue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.ServiceDefaults.Resilience;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Every upload is scanned by a real clamd (started by the test on the signatures the AppHost ships) before anything
/// processes it: clean is queued, EICAR is rejected and deleted, a scanner that is down or hung holds the upload (or
/// refuses it) and the held document is scanned when clamd is back (Req AV-1, AV-2, CB-2).
/// </summary>
public sealed class ScanningTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _redisClient = null!;
    private ClamdServer? _clamd;
    private IngestHost? _host;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _redisClient = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_clamd is not null)
        {
            await _clamd.DisposeAsync();
        }

        await _redisClient.DisposeAsync();
        await _redis.DisposeAsync();
    }

    /// <summary>A file that passes the PDF signature check and carries the EICAR test string inside.</summary>
    private static byte[] EicarPdf() =>
        [.. "%PDF-1.4\n%"u8.ToArray(), .. ClamdServer.Eicar(), .. "\n%%EOF\n"u8.ToArray()];

    [Fact]
    [Trait("Req", "AV-1")]
    [Trait("Req", "IN-1")]
    public async Task A_clean_pdf_is_scanned_by_clamd_then_queued_and_enqueued()
    {
        var host = await StartAsync();

        using var response = await Api.UploadAsync(host.Client, Api.MinimalPdf, "clean.pdf");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        Assert.Equal("queued", (await Api.JsonAsync(response)).GetProperty("status").GetString());

        Assert.Equal(("queued", "clean"), ScanState(id));
        Assert.Single(await Api.JobEntriesAsync(_redisClient, id));
        Assert.Contains(await EventKindsAsync(id), kind => kind == DocumentEventKinds.Scanned);
        Assert.True(File.Exists(Path.Combine(host.UploadsDir, id + ".pdf")));
    }

    [Fact]
    [Trait("Req", "AV-1")]
    public async Task The_EICAR_test_file_is_rejected_as_malware_detected_and_nothing_of_it_remains()
    {
        var host = await StartAsync();

        using var response = await Api.UploadAsync(host.Client, EicarPdf(), "eicar.pdf");
        var problem = await Api.AssertProblemAsync(response, 422, "malware_detected");
        Assert.False(problem.GetProperty("retryable").GetBoolean());
        Assert.Equal(ClamdServer.EicarSignature, problem.GetProperty("signature").GetString());
        Assert.Contains(ClamdServer.EicarSignature, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var id = problem.GetProperty("documentId").GetString()!;

        // The row says what happened; the file is gone (uploads and temp), no job was ever added.
        using var detail = await host.Client.GetAsync($"/api/documents/{id}");
        var document = await Api.JsonAsync(detail);
        Assert.Equal("rejected", document.GetProperty("status").GetString());
        Assert.Equal("malware_detected", document.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(ClamdServer.EicarSignature, document.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.All(document.GetProperty("stages").EnumerateArray(), s => Assert.Equal("skipped", s.GetProperty("status").GetString()));
        Assert.Equal(("rejected", "infected"), ScanState(id));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.UploadsDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.TempDir));
        Assert.Empty(await Api.JobEntriesAsync(_redisClient, id));

        // Terminal: no result, no retry, and a worker holding a stray job gets the status and acknowledges it.
        await Api.AssertProblemAsync(await host.Client.GetAsync($"/api/documents/{id}/result"), 409, "no_result");
        await Api.AssertProblemAsync(await host.Client.PostAsync($"/api/documents/{id}/retry", null), 409, "not_retryable");
        using var claim = await host.Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("worker-a"));
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        Assert.Equal("rejected", (await Api.JsonAsync(claim)).GetProperty("status").GetString());
        Assert.Equal(0, (await Api.JsonAsync(claim)).GetProperty("leaseToken").GetInt64());
    }

    [Fact]
    [Trait("Req", "AV-2")]
    [Trait("Req", "CB-2")]
    [Trait("Req", "HC-3")]
    [Trait("Req", "JOB-7")]
    public async Task With_clamd_killed_Hold_keeps_uploads_unprocessed_and_scans_them_when_clamd_returns()
    {
        var host = await StartAsync();
        _clamd!.Kill();

        // Accepted and stored, but held: not queued, not enqueued, not claimable, its content not served.
        using var response = await Api.UploadAsync(host.Client, Api.MinimalPdf, "held.pdf");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var held = await Api.JsonAsync(response);
        Assert.Equal("awaiting_scan", held.GetProperty("status").GetString());
        var id = held.GetProperty("id").GetString()!;
        var infected = await Api.UploadOkAsync(host.Client, EicarPdf(), "held-eicar.pdf");

        using var detail = await host.Client.GetAsync($"/api/documents/{id}");
        var document = await Api.JsonAsync(detail);
        Assert.Equal("awaiting_scan", document.GetProperty("status").GetString());
        Assert.Contains("waiting for the malware scan", document.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        await Api.AssertProblemAsync(await host.Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("worker-a")), 409, "document_not_scanned");
        await Api.AssertProblemAsync(await host.Client.GetAsync(InternalApi.Content(id)), 409, "document_not_scanned");
        await Api.AssertProblemAsync(await host.Client.GetAsync($"/api/documents/{id}/result"), 409, "result_not_ready");

        // Ready but degraded: status, results and uploads go on without the scanner.
        using var ready = await host.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var scanner = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("scanner");
        Assert.Equal("Degraded", scanner.GetProperty("status").GetString());
        Assert.Equal("Hold", scanner.GetProperty("data").GetProperty("policy").GetString());

        // A sweep once the upload is older than its own enqueue window (the sweeper's own rule) leaves held documents alone.
        var createdAt = held.GetProperty("createdAt").GetDateTimeOffset();
        await Eventually.UntilAsync(() => DateTimeOffset.UtcNow - createdAt > TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), "the upload is past the sweeper's window");
        var sweeper = host.Services.GetServices<IHostedService>().OfType<EnqueueSweeper>().Single();
        Assert.Equal(0, await sweeper.SweepOnceAsync(CancellationToken.None));
        Assert.Empty(await Api.JobEntriesAsync(_redisClient, id));
        Assert.Equal(("awaiting_scan", (string?)null), ScanState(id));

        await _clamd.StartProcessAsync();
        await Eventually.UntilAsync(() => ScanState(id).Status == "queued" && ScanState(infected).Status == "rejected",
            TimeSpan.FromSeconds(30), "the held documents are scanned once clamd answers again");
        Assert.Equal("clean", ScanState(id).Result);
        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(_redisClient, id)).Length == 1, TimeSpan.FromSeconds(10), "the clean one is enqueued");
        Assert.Single(await Api.JobEntriesAsync(_redisClient, id));
        Assert.Empty(await Api.JobEntriesAsync(_redisClient, infected));
        Assert.False(File.Exists(Path.Combine(host.UploadsDir, infected + ".pdf")));
        using var claim = await host.Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("worker-a"));
        Assert.Equal("processing", (await Api.JsonAsync(claim)).GetProperty("status").GetString());
    }

    [Fact]
    [Trait("Req", "AV-2")]
    [Trait("Req", "JOB-5")]
    public async Task A_held_document_survives_a_restart_can_be_cancelled_and_a_retry_scans_it_first()
    {
        var host = await StartAsync();
        _clamd!.Kill();
        var kept = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "kept.pdf");
        var cancelled = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "cancelled.pdf");

        using (var cancel = await host.Client.DeleteAsync($"/api/documents/{cancelled}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("cancelled", (await Api.JsonAsync(cancel)).GetProperty("status").GetString());
        }

        // IngestService restarts while clamd is still down: the held document is still held (its state is the row).
        var root = host.Root;
        await host.StopKeepingRootAsync();
        _host = host = IngestHost.Create(_redis.ConnectionString, Settings(), root).Start();
        Assert.Equal("awaiting_scan", await StatusAsync(host, kept));

        // A retry of the document cancelled before its scan puts it back in front of the scanner, not in the queue.
        using (var retry = await host.Client.PostAsync($"/api/documents/{cancelled}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            Assert.Equal("awaiting_scan", (await Api.JsonAsync(retry)).GetProperty("status").GetString());
        }

        await _clamd.StartProcessAsync();
        await Eventually.UntilAsync(async () => await StatusAsync(host, kept) == "queued" && await StatusAsync(host, cancelled) == "queued",
            TimeSpan.FromSeconds(30), "both are scanned and queued after the restart once clamd is back");
        // The status is committed before the job is added to the stream: wait for the entries, then make sure there
        // is exactly one each (the sweeper must not have added a second).
        await Eventually.UntilAsync(async () => (await Api.JobEntriesAsync(_redisClient, kept)).Length >= 1
            && (await Api.JobEntriesAsync(_redisClient, cancelled)).Length >= 1, TimeSpan.FromSeconds(10), "both are enqueued");
        Assert.Single(await Api.JobEntriesAsync(_redisClient, kept));
        Assert.Single(await Api.JobEntriesAsync(_redisClient, cancelled));
    }

    [Fact]
    [Trait("Req", "AV-2")]
    [Trait("Req", "ERR-1")]
    public async Task Refuse_answers_503_scanner_unavailable_with_Retry_After_and_stores_nothing()
    {
        var host = await StartAsync(new() { ["Scanner:WhenUnavailable"] = "Refuse" });
        string keptId;
        using (var first = await KeyedUploadAsync(host.Client, "refuse-replay-key"))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            keptId = (await Api.JsonAsync(first)).GetProperty("id").GetString()!;
        }

        _clamd!.Kill();

        // A retry of an upload already taken is answered from its key, without a second scan: not refused.
        using (var replay = await KeyedUploadAsync(host.Client, "refuse-replay-key"))
        {
            var body = await replay.Content.ReadAsStringAsync();
            Assert.True(replay.IsSuccessStatusCode, body);
            Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(keptId, (await Api.JsonAsync(replay)).GetProperty("id").GetString());
        }

        // A new keyed upload is refused, and its key freed, so that the client's retry is a new attempt.
        using (var refusedKeyed = await KeyedUploadAsync(host.Client, "refused-key"))
        {
            await Api.AssertProblemAsync(refusedKeyed, 503, "scanner_unavailable");
        }

        Assert.Equal(0L, Scalar("SELECT COUNT(*) FROM upload_keys WHERE key = 'refused-key'"));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM documents"));
        Assert.Single(Directory.EnumerateFileSystemEntries(host.UploadsDir));

        using var response = await Api.UploadAsync(host.Client, Api.MinimalPdf, "refused.pdf");
        var problem = await Api.AssertProblemAsync(response, 503, "scanner_unavailable");
        Assert.True(problem.GetProperty("retryable").GetBoolean());
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Single(Directory.EnumerateFileSystemEntries(host.UploadsDir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.TempDir));
        Assert.Equal(1L, Scalar("SELECT COUNT(*) FROM documents"));

        await _clamd.StartProcessAsync();
        await Eventually.UntilAsync(async () =>
        {
            using var again = await Api.UploadAsync(host.Client, Api.MinimalPdf, "accepted.pdf");
            return again.StatusCode == HttpStatusCode.Accepted && (await Api.JsonAsync(again)).GetProperty("status").GetString() == "queued";
        }, TimeSpan.FromSeconds(30), "uploads are accepted again once clamd is back");
    }

    [Fact]
    [Trait("Req", "CB-2")]
    [Trait("Req", "CB-3")]
    [Trait("Req", "CB-4")]
    [Trait("Req", "TMO-6")]
    [Trait("Req", "AV-2")]
    public async Task A_hung_scanner_is_bounded_by_the_timeout_then_the_breaker_opens_and_a_real_clamd_closes_it()
    {
        // A black hole: accepts connections and never answers.
        var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var port = ((IPEndPoint)blackHole.LocalEndpoint).Port;
        var accepted = new System.Collections.Concurrent.ConcurrentQueue<TcpClient>();
        using var stopAccepting = new CancellationTokenSource();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Enqueue(await blackHole.AcceptTcpClientAsync(stopAccepting.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var host = await StartAsync(new()
        {
            ["ConnectionStrings:clamav"] = $"tcp://127.0.0.1:{port}",
            ["Scanner:TimeoutMs"] = "500",
            ["Scanner:BreakerMinimumThroughput"] = "2",
            ["Scanner:BreakerBreakSeconds"] = "10",
            ["Scanner:HeldPollSeconds"] = "1",
        }, startClamd: false);
        var breakers = host.Services.GetRequiredService<CircuitBreakerStates>();

        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await Api.UploadAsync(host.Client, Api.MinimalPdf, $"hung-{i}.pdf");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the upload waited {clock.Elapsed.TotalSeconds:F1} s on a hung scanner");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await Api.JsonAsync(response);
            Assert.Equal("awaiting_scan", body.GetProperty("status").GetString());
            ids.Add(body.GetProperty("id").GetString()!);
        }

        Assert.Contains("(timeout)", LastError(ids[0]), StringComparison.Ordinal);
        await Eventually.UntilAsync(() => breakers.History.Any(s => s.Dependency == "clamav" && s.State == BreakerState.Open),
            TimeSpan.FromSeconds(10), "the clamav breaker opened after the timeouts");

        // While open (10 s), a scan does not even try: the upload is held at once, the breaker named as the reason, and
        // the scanner gets no connection.
        Assert.Equal(BreakerState.Open, breakers.StateOf("clamav"));
        var connectionsBefore = accepted.Count;
        var fast = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "fast.pdf");
        Assert.Contains("circuit breaker is open", LastError(fast), StringComparison.Ordinal);
        Assert.Equal(connectionsBefore, accepted.Count);
        ids.Add(fast);

        using (var ready = await host.Client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Degraded", (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("scanner").GetProperty("status").GetString());
        }

        // The black hole goes; a real clamd takes its port: the half-open probe succeeds, the breaker closes, all are queued.
        await stopAccepting.CancelAsync();
        await acceptLoop;
        blackHole.Stop();
        foreach (var connection in accepted)
        {
            connection.Dispose();
        }

        _clamd = await ClamdServer.StartAsync(port: port);
        await Eventually.UntilAsync(() => ids.All(id => ScanState(id).Status == "queued"), TimeSpan.FromSeconds(30),
            "every held document is scanned once a real clamd answers on the port");
        Assert.Equal(BreakerState.Closed, breakers.StateOf("clamav"));
        Assert.Contains(breakers.History, s => s.Dependency == "clamav" && s.State == BreakerState.Closed);
    }

    [Fact]
    [Trait("Req", "AV-2")]
    public async Task A_file_longer_than_clamds_stream_limit_is_held_with_clamds_reason_and_does_not_open_the_breaker()
    {
        _clamd = await ClamdServer.StartAsync(streamMaxBytes: 32 * 1024);
        var host = await StartAsync(new() { ["Scanner:BreakerMinimumThroughput"] = "2" }, startClamd: false);
        var big = File.ReadAllBytes(RepoPaths.CorpusFile("pdfplumber__senate-expenditures.pdf"));
        Assert.True(big.Length > 32 * 1024, "the corpus file is longer than the stream limit");

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await Api.UploadAsync(host.Client, big, $"big-{i}.pdf");
            var body = await Api.JsonAsync(response);
            Assert.Equal("awaiting_scan", body.GetProperty("status").GetString());
            ids.Add(body.GetProperty("id").GetString()!);
        }

        Assert.Contains("size limit exceeded", LastError(ids[0]), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(BreakerState.Closed, host.Services.GetRequiredService<CircuitBreakerStates>().StateOf("clamav"));
        Assert.Equal("queued", await StatusAsync(host, await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "small.pdf")));
    }

    private static async Task<HttpResponseMessage> KeyedUploadAsync(HttpClient client, string key)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Api.MinimalPdf);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "keyed.pdf");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents", UriKind.Relative)) { Content = form };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private Dictionary<string, string?> Settings(Dictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Scanner:Enabled"] = "true",
            ["ConnectionStrings:clamav"] = _clamd?.ConnectionString,
            ["Scanner:TimeoutMs"] = "5000",
            ["Scanner:HeldPollSeconds"] = "1",
            ["Scanner:BreakerBreakSeconds"] = "2",
            ["Queue:SweepIntervalSeconds"] = "1",
            ["Queue:EnqueueTimeoutMs"] = "500",
            ["Ingest:MaxUploadBytes"] = (4 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in overrides ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    private async Task<IngestHost> StartAsync(Dictionary<string, string?>? overrides = null, bool startClamd = true)
    {
        if (startClamd)
        {
            _clamd = await ClamdServer.StartAsync();
        }

        _host = IngestHost.Create(_redis.ConnectionString, Settings(overrides)).Start();
        return _host;
    }

    private static async Task<string> StatusAsync(IngestHost host, string id)
    {
        using var response = await host.Client.GetAsync($"/api/documents/{id}");
        return (await Api.JsonAsync(response)).GetProperty("status").GetString()!;
    }

    private (string Status, string? Result) ScanState(string id)
    {
        using var catalog = _host!.OpenCatalog();
        using var select = catalog.CreateCommand();
        select.CommandText = "SELECT status, scan_result FROM documents WHERE id = @id";
        select.Parameters.AddWithValue("@id", id);
        using var reader = select.ExecuteReader();
        Assert.True(reader.Read(), $"document {id} exists");
        return (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private string LastError(string id)
    {
        using var catalog = _host!.OpenCatalog();
        using var select = catalog.CreateCommand();
        select.CommandText = "SELECT last_error FROM documents WHERE id = @id";
        select.Parameters.AddWithValue("@id", id);
        return select.ExecuteScalar() as string ?? "";
    }

    private long Scalar(string sql)
    {
        using var catalog = _host!.OpenCatalog();
        using var command = catalog.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private async Task<IReadOnlyList<string>> EventKindsAsync(string id)
    {
        using var response = await _host!.Client.GetAsync(InternalApi.Events(id));
        return (await Api.JsonAsync(response)).EnumerateArray().Select(e => e.GetProperty("kind").GetString()!).ToList();
    }

}
