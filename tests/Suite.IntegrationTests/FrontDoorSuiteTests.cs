using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Suite.Testing;
using Suite.Testing.Otlp;

namespace Suite.IntegrationTests;

/// <summary>
/// The front door of the whole suite, as real processes started from the AppHost's topology: API keys, hostile input,
/// rate limits, admission control and idempotent uploads through the real gateway and ingest service.
/// </summary>
[Collection("pipeline-suite")]
public sealed class FrontDoorSuiteTests : IAsyncLifetime
{
    private const string HostileKey = "hostile-client-key-5b8e0c";
    private const string BurstKey = "burst-client-key-93d1aa";
    private const int MaxQueued = 3;
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);

    /// <summary>Ingest settings read each time the ingest replica starts, so a test can restart it with others.</summary>
    private readonly ConcurrentDictionary<string, string> _ingestOverrides = new(StringComparer.Ordinal);
    private readonly List<string> _answers = [];
    private OtlpCollector _telemetry = null!;
    private RunningSuite _suite = null!;

    public async Task InitializeAsync()
    {
        _telemetry = await OtlpCollector.StartAsync();
        _suite = await RunningSuite.StartAsync(builder =>
        {
            foreach (var service in SuiteFixture.Services)
            {
                builder.WithEnvironment(service, _telemetry.EnvironmentFor(service));
            }

            builder.WithEnvironment("gateway", new Dictionary<string, string>
            {
                ["Gateway__ApiKeys__1__Name"] = "hostile",
                ["Gateway__ApiKeys__1__Key"] = HostileKey,
                ["Gateway__ApiKeys__2__Name"] = "burst",
                ["Gateway__ApiKeys__2__Key"] = BurstKey,
                ["Gateway__RateLimits__Uploads__TokenLimit"] = "12",
                ["Gateway__RateLimits__Uploads__TokensPerPeriod"] = "1",
                ["Gateway__RateLimits__Uploads__PeriodSeconds"] = "1",
            });
            builder.WithEnvironment("ingest", "Admission__MaxQueuedDocuments", MaxQueued);
            builder.Project("ingest").WithEnvironment(context =>
            {
                foreach (var (key, value) in _ingestOverrides)
                {
                    context.EnvironmentVariables[key] = value;
                }
            });
        });
    }

    public async Task DisposeAsync()
    {
        await _suite.DisposeAsync();
        await _telemetry.DisposeAsync();
    }

    private SuiteApp App => _suite.App;

    private HttpClient Client(string key) => App.CreateGatewayClient(key, honourRateLimits: key != BurstKey);

    private async Task<HttpResponseMessage> Keep(Task<HttpResponseMessage> sending)
    {
        var response = await sending;
        var body = await response.Content.ReadAsStringAsync();
        lock (_answers)
        {
            _answers.Add($"{(int)response.StatusCode} {response.Headers} {body}");
        }

        return response;
    }

    private static MultipartFormDataContent Form(HttpContent file, string fileName, string contentType = "application/pdf")
    {
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var form = new MultipartFormDataContent { { file, "file", fileName } };
        return form;
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        Assert.Equal(code, json.RootElement.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("detail").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("traceId").GetString()));
        return json.RootElement.Clone();
    }

    private string IngestRoot => Path.Combine(App.DataDirectory, "ingest");

    private int StoredUploads => Directory.Exists(Path.Combine(IngestRoot, "uploads")) ? Directory.GetFiles(Path.Combine(IngestRoot, "uploads")).Length : 0;

    private string[] TempFiles => Directory.Exists(Path.Combine(IngestRoot, "tmp")) ? Directory.GetFiles(Path.Combine(IngestRoot, "tmp"), "*", SearchOption.AllDirectories) : [];

    [Fact]
    [Trait("Req", "SEC-1")]
    [Trait("Req", "SEC-2")]
    public async Task Without_a_key_401_with_one_200_and_no_key_appears_in_any_log_trace_or_error_body()
    {
        var wrongKey = "wrong-key-" + Guid.NewGuid().ToString("N");
        using var anonymous = new HttpClient { BaseAddress = App.GetEndpoint("gateway") };
        using var none = await Keep(anonymous.GetAsync(new Uri("/api/documents", UriKind.Relative)));
        await ProblemAsync(none, HttpStatusCode.Unauthorized, "api_key_missing");
        using var wrong = await Keep(Client(wrongKey).GetAsync(new Uri("/api/documents", UriKind.Relative)));
        await ProblemAsync(wrong, HttpStatusCode.Unauthorized, "api_key_invalid");
        using var bearer = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents?limit=5", UriKind.Relative));
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayKeys.Development);
        using var ok = await Keep(anonymous.SendAsync(bearer));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        // A whole document's life with the key on every request: upload, poll, result, an error or two.
        var id = await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        Assert.Equal("completed", RunningSuite.Status(await _suite.WaitForTerminalAsync(id, Wait)));
        using var result = await Keep(_suite.Gateway.GetAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        using var missing = await Keep(_suite.Gateway.GetAsync(new Uri("/api/documents/0123456789abcdef0123456789abcdef", UriKind.Relative)));
        await ProblemAsync(missing, HttpStatusCode.NotFound, "document_not_found");

        // Everything the suite produced: console logs of every replica, OTLP spans and log records, answers.
        await _telemetry.WaitForSpansAsync(spans => spans.Any(s => s.ServiceName == "pipeline-worker"), Wait, "worker spans exported");
        var produced = new StringBuilder();
        foreach (var (replica, log) in App.AllLogs())
        {
            produced.Append(replica).Append('\n').Append(log).Append('\n');
        }

        produced.Append(JsonSerializer.Serialize(_telemetry.Spans)).Append(JsonSerializer.Serialize(_telemetry.LogRecords));
        lock (_answers)
        {
            produced.AppendJoin('\n', _answers);
        }

        var text = produced.ToString();
        Assert.True(text.Length > 10_000, "the scan covers real output");
        Assert.Contains("Refused GET /api/documents", text, StringComparison.Ordinal);
        foreach (var secret in new[] { GatewayKeys.Development, wrongKey, HostileKey, BurstKey })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    [Trait("Req", "LS-6")]
    [Trait("Req", "ERR-3")]
    [Trait("Req", "IN-2")]
    [Trait("Req", "FMT-3")]
    public async Task A_hostile_battery_gets_its_documented_problems_and_leaves_nothing_stored()
    {
        using var client = Client(HostileKey);
        var storedBefore = StoredUploads;
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));

        // A DOCX extension on a zip archive that is no Office document (formats are told by content, not by name).
        byte[] zip;
        using (var buffer = new MemoryStream())
        {
            using (var archive = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            {
                await using var entry = await archive.CreateEntry("payload.bin").OpenAsync();
                await entry.WriteAsync(new byte[2048]);
            }

            zip = buffer.ToArray();
        }

        using (var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative), Form(new ByteArrayContent(zip), "invoice.docx"))))
        {
            await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
        }

        // A polyglot: an executable whose PDF signature sits past the first 1024 bytes.
        byte[] polyglot = [0x7F, (byte)'E', (byte)'L', (byte)'F', .. new byte[1200], .. "%PDF-1.7\n"u8.ToArray()];
        using (var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative), Form(new ByteArrayContent(polyglot), "page.pdf"))))
        {
            await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_format");
        }

        using (var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative), Form(new ByteArrayContent([]), "empty.pdf"))))
        {
            await ProblemAsync(response, HttpStatusCode.BadRequest, "empty_file");
        }

        // A JSON body is a URL upload: one without a url, naming a member that is no option, is refused naming that member.
        using (var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative), new StringContent("{\"file\": \"x\"}", Encoding.UTF8, "application/json"))))
        {
            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "unknown_option");
            Assert.Equal("file", problem.GetProperty("field").GetString());
        }

        // A URL upload aimed at the cloud metadata address: refused before any connection (Sources:AllowedHosts is empty).
        using (var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative),
                   new StringContent("{\"url\": \"http://169.254.169.254/latest/meta-data/\"}", Encoding.UTF8, "application/json"))))
        {
            var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity, "url_forbidden");
            Assert.Contains("169.254.169.254", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // A 2 GB body generated on the fly: refused with 413 while it streams, and neither the gateway's nor ingest's
        // memory grows with it.
        var pids = new[] { await App.ProcessIdOfAsync("gateway", 0), await App.ProcessIdOfAsync("ingest", 0) };
        var rssBefore = pids.Select(ResidentBytes).ToArray();
        var (hugeStatus, hugeAnswer, sent) = await StreamHugeUploadAsync(2L * 1024 * 1024 * 1024, HostileKey);
        Assert.True(hugeStatus == 413 && hugeAnswer.Contains("\"code\":\"file_too_large\"", StringComparison.Ordinal), $"{hugeStatus}: {hugeAnswer}");
        Assert.True(sent < 1L * 1024 * 1024 * 1024, $"the refusal came early ({sent} bytes sent)");
        for (var i = 0; i < pids.Length; i++)
        {
            var growth = ResidentBytes(pids[i]) - rssBefore[i];
            Assert.True(growth < 150L * 1024 * 1024, $"process {pids[i]} grew by {growth / (1024 * 1024)} MiB while refusing the 2 GB body");
        }

        // SQL-looking strings, negative and huge values in every parameter of the read API.
        foreach (var (path, status, code) in new (string, HttpStatusCode, string)[]
        {
            ("/api/documents?limit=-1", HttpStatusCode.BadRequest, "invalid_limit"),
            ("/api/documents?limit=0", HttpStatusCode.BadRequest, "invalid_limit"),
            ("/api/documents?limit=999999999999999999999", HttpStatusCode.BadRequest, "invalid_limit"),
            ("/api/documents?limit=1;DROP%20TABLE%20documents", HttpStatusCode.BadRequest, "invalid_limit"),
            ("/api/documents?cursor=%27%20OR%201=1%20--", HttpStatusCode.BadRequest, "invalid_cursor"),
            ("/api/documents/1%27%20OR%20%271%27=%271", HttpStatusCode.NotFound, "document_not_found"),
            ("/api/documents/0123456789abcdef0123456789abcdef/result?format=json%27%20--", HttpStatusCode.BadRequest, "invalid_format"),
        })
        {
            using var response = await Keep(client.GetAsync(new Uri(path, UriKind.Relative)));
            await ProblemAsync(response, status, code);
        }

        // Malformed JSON to the one public JSON endpoint (the Label Studio webhook, with its real secret).
        var bridgePid = await App.ProcessIdOfAsync("labeling-bridge", 0);
        var secret = ProcessTree.EnvironmentOf(bridgePid)["Bridge__WebhookSecret"];
        using (var webhook = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/labeling/webhooks/label-studio", UriKind.Relative)))
        {
            webhook.Headers.Add("X-Suite-Webhook-Secret", secret);
            webhook.Content = new StringContent("{\"action\": \"ANNOTATION_CREATED\", \"annotation\": {", Encoding.UTF8, "application/json");
            using var response = await Keep(client.SendAsync(webhook));
            await ProblemAsync(response, HttpStatusCode.BadRequest, "invalid_webhook_payload");
        }

        // Routes to internal endpoints however the path is dressed up.
        foreach (var target in new[]
        {
            "/api/documents/..%2F..%2Finternal/documents/abc/claim",
            "/api/documents/%2e%2e/%2e%2e/internal/documents/abc/claim",
            "/api/documents/../../internal/documents/abc/claim",
            "//internal/documents/abc/claim",
        })
        {
            var (status, body) = await RawRequestAsync("POST", target, HostileKey);
            Assert.True(status == 400 && body.Contains("\"code\":\"invalid_path\"", StringComparison.Ordinal), $"{target}: {status} {body}");
        }

        foreach (var path in new[] { "/internal/documents/abc/claim", "/INTERNAL/documents/abc/claim", "/Internal/artifacts/x" })
        {
            using var response = await Keep(client.PostAsync(new Uri(path, UriKind.Relative), new StringContent("{}")));
            await ProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }

        // Absurd file names are accepted but never used as paths: the document keeps a cleaned display name. (At most
        // Admission:MaxQueuedDocuments of them, once earlier documents have drained.)
        await WaitForQueueDrainedAsync();
        foreach (var name in new[] { "../../../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "tab\tand\u0001control" + new string('a', 5000) + ".pdf" })
        {
            using var response = await Keep(client.PostAsync(new Uri("/api/documents", UriKind.Relative), Form(new ByteArrayContent(pdf), name)));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var shown = json.RootElement.GetProperty("fileName").GetString()!;
            Assert.DoesNotContain('/', shown);
            Assert.DoesNotContain('\\', shown);
            Assert.DoesNotContain(shown, c => char.IsControl(c));
            Assert.True(shown.Length <= 255);
        }

        Assert.Equal(storedBefore + 3, StoredUploads);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(IngestRoot, "uploads")), f => !Path.GetFileName(f).EndsWith(".pdf", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => TempFiles.Length == 0, TimeSpan.FromSeconds(10), "no temp file remains: " + string.Join(", ", TempFiles));
    }

    [Fact]
    [Trait("Req", "LS-3")]
    public async Task A_client_over_its_upload_rate_gets_429_with_a_usable_Retry_After_and_other_clients_do_not()
    {
        using var burst = Client(BurstKey);
        var refused = 0;
        TimeSpan? retryAfter = null;
        for (var i = 0; i < 20; i++)
        {
            // An empty multipart body: cheap for ingest (400), but it takes an upload token all the same.
            using var response = await Keep(burst.PostAsync(new Uri("/api/documents", UriKind.Relative), new MultipartFormDataContent()));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused++;
                retryAfter ??= response.Headers.RetryAfter?.Delta;
                await ProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
            }
        }

        Assert.True(refused > 0, "the burst client was never limited");
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

        // Another client's bucket is its own; the limited one is served again once Retry-After has passed.
        using var other = await Keep(_suite.Gateway.GetAsync(new Uri("/api/documents?limit=1", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await Task.Delay(retryAfter.Value);
        using var again = await Keep(burst.PostAsync(new Uri("/api/documents", UriKind.Relative), new MultipartFormDataContent()));
        await ProblemAsync(again, HttpStatusCode.BadRequest, "malformed_multipart");

        using var gatewayMetrics = new HttpClient { BaseAddress = App.GetEndpoint("gateway") };
        var metrics = await gatewayMetrics.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Matches("gateway_rate_limited[^\\n]*suite_client=\"burst\"", metrics);
    }

    [Fact]
    [Trait("Req", "LS-1")]
    [Trait("Req", "LS-7")]
    public async Task Over_the_queue_depth_limit_uploads_get_429_and_readiness_and_metrics_show_the_levels()
    {
        using var ingest = new HttpClient { BaseAddress = App.GetEndpoint("ingest") };
        await WaitForQueueDrainedAsync();
        await App.StopReplicaAsync("pipeline-worker", 0);
        await App.StopReplicaAsync("pipeline-worker", 1);
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < MaxQueued; i++)
            {
                ids.Add(await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
            }

            var stored = StoredUploads;
            using var refused = await Keep(_suite.UploadAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
            var problem = await ProblemAsync(refused, HttpStatusCode.TooManyRequests, "queue_full");
            Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);
            Assert.Equal(MaxQueued, problem.GetProperty("queuedDocuments").GetInt64());
            Assert.Equal(stored, StoredUploads);

            var admission = await AdmissionAsync(ingest);
            Assert.Equal("Degraded", admission.GetProperty("status").GetString());
            Assert.Equal(MaxQueued, admission.GetProperty("data").GetProperty("maxQueuedDocuments").GetInt32());
            Assert.Equal("queue_full", admission.GetProperty("data").GetProperty("lastRefusal").GetString());
            var metrics = await ingest.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Matches("suite_admission_decisions[^\\n]*outcome=\"queue_full\"", metrics);
            Assert.Matches($"suite_admission_queued_documents[^\\n]* {MaxQueued}\\b", metrics);
        }
        finally
        {
            await App.StartReplicaAsync("pipeline-worker", 0);
            await App.StartReplicaAsync("pipeline-worker", 1);
        }

        foreach (var id in ids)
        {
            Assert.Equal("completed", RunningSuite.Status(await _suite.WaitForTerminalAsync(id, Wait)));
        }
    }

    [Fact]
    [Trait("Req", "LS-5")]
    [Trait("Req", "LS-7")]
    public async Task Under_memory_pressure_uploads_get_503_and_with_low_disk_507_each_storing_nothing()
    {
        using var ingest = new HttpClient { BaseAddress = App.GetEndpoint("ingest") };
        try
        {
            // The limit under the real memory load of this machine; the service's own GC reading decides.
            await RestartIngestWithAsync("Admission__MaxMemoryLoadPercent", "1");
            var stored = StoredUploads;
            using (var refused = await Keep(_suite.UploadAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"))))
            {
                await ProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "memory_pressure");
                Assert.Equal(TimeSpan.FromSeconds(15), refused.Headers.RetryAfter?.Delta);
            }

            var memory = (await AdmissionAsync(ingest)).GetProperty("data");
            Assert.Equal(1, memory.GetProperty("maxMemoryLoadPercent").GetInt32());
            Assert.Contains("memory_pressure", memory.GetProperty("shedding").EnumerateArray().Select(e => e.GetString()));

            // A reserve above the real free space of the disk under the data folder.
            _ingestOverrides.Clear();
            await RestartIngestWithAsync("Admission__MinFreeDiskBytes", (1L << 50).ToString(CultureInfo.InvariantCulture));
            using (var refused = await Keep(_suite.UploadAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"))))
            {
                var problem = await ProblemAsync(refused, HttpStatusCode.InsufficientStorage, "disk_space_low");
                Assert.True(problem.GetProperty("freeDiskBytes").GetInt64() > 0);
                Assert.NotNull(refused.Headers.RetryAfter);
            }

            var disk = (await AdmissionAsync(ingest)).GetProperty("data");
            Assert.Contains("disk_space_low", disk.GetProperty("shedding").EnumerateArray().Select(e => e.GetString()));
            var metrics = await ingest.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Matches("suite_admission_decisions[^\\n]*outcome=\"disk_space_low\"", metrics);
            Assert.Equal(stored, StoredUploads);
            Assert.Empty(TempFiles);
        }
        finally
        {
            _ingestOverrides.Clear();
            await RestartIngestWithAsync(null, null);
        }

        var id = await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        Assert.Equal("completed", RunningSuite.Status(await _suite.WaitForTerminalAsync(id, Wait)));
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task A_retried_upload_with_one_Idempotency_Key_creates_one_document_and_a_duplicate_is_recognised()
    {
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("pdfplumber__senate-expenditures.pdf"));
        var key = Guid.NewGuid().ToString();
        async Task<JsonElement> UploadWithKey()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents", UriKind.Relative))
            {
                Content = Form(new ByteArrayContent(pdf), "senate.pdf"),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await Keep(_suite.Gateway.SendAsync(request));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return json.RootElement.Clone();
        }

        var first = await UploadWithKey();
        var retried = await UploadWithKey();
        var id = first.GetProperty("id").GetString()!;
        Assert.Equal(id, retried.GetProperty("id").GetString());

        var duplicate = await _suite.UploadAcceptedAsync(pdf, "senate-again.pdf");
        Assert.NotEqual(id, duplicate);
        var detail = await _suite.GetDocumentAsync(duplicate);
        Assert.Equal(first.GetProperty("sha256").GetString(), detail.GetProperty("sha256").GetString());
        using var listed = await Keep(_suite.Gateway.GetAsync(new Uri("/api/documents?limit=100", UriKind.Relative)));
        using var page = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Single(page.RootElement.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetString() == id);
        Assert.Equal("completed", RunningSuite.Status(await _suite.WaitForTerminalAsync(id, Wait)));
    }

    private async Task WaitForQueueDrainedAsync()
    {
        using var ingest = new HttpClient { BaseAddress = App.GetEndpoint("ingest") };
        await Eventually.UntilAsync(async () => (await AdmissionAsync(ingest)).GetProperty("data").GetProperty("queuedDocuments").GetInt64() == 0,
            Wait, "earlier documents drained");
    }

    private async Task RestartIngestWithAsync(string? key, string? value)
    {
        if (key is not null)
        {
            _ingestOverrides[key] = value!;
        }

        await App.StopReplicaAsync("ingest", 0);
        await App.StartReplicaAsync("ingest", 0);
        await App.WaitForHealthyAsync("ingest", Wait);
    }

    private static async Task<JsonElement> AdmissionAsync(HttpClient ingest)
    {
        using var ready = await ingest.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("checks").GetProperty("admission").Clone();
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Sends a request with the target exactly as given (HttpClient would normalise it) to the real gateway.</summary>
    private async Task<(int Status, string Body)> RawRequestAsync(string method, string target, string key)
    {
        var gateway = App.GetEndpoint("gateway");
        using var socket = new TcpClient();
        await socket.ConnectAsync(gateway.Host, gateway.Port);
        await using var stream = socket.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: {gateway.Authority}\r\nX-Api-Key: {key}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        return (int.Parse(response.Split(' ')[1], CultureInfo.InvariantCulture), response);
    }

    /// <summary>
    /// Streams a multipart upload of <paramref name="length"/> bytes (<c>%PDF-</c>, then zeros, made as it is sent) over a
    /// raw socket while reading the answer, so an early refusal is seen even though the server stops reading.
    /// </summary>
    private async Task<(int Status, string Answer, long Sent)> StreamHugeUploadAsync(long length, string key)
    {
        var gateway = App.GetEndpoint("gateway");
        using var socket = new TcpClient();
        await socket.ConnectAsync(gateway.Host, gateway.Port);
        await using var stream = socket.GetStream();
        const string boundary = "hugeboundary";
        var head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        var request = $"POST /api/documents HTTP/1.1\r\nHost: {gateway.Authority}\r\nX-Api-Key: {key}\r\n" +
                      $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {head.Length + length + tail.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        await stream.WriteAsync(head);

        var answer = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[8192];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
                }
            }
            catch (IOException)
            {
                // Reset after the answer: what was read is the answer.
            }
        });

        var zeros = new byte[64 * 1024];
        long sent = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            while (sent < length && !reading.IsCompleted && answer.Length == 0)
            {
                var size = (int)Math.Min(zeros.Length, length - sent);
                await stream.WriteAsync(zeros.AsMemory(0, size), deadline.Token);
                sent += size;
            }
        }
        catch (IOException)
        {
            // The server closed the connection after answering.
        }

        // The answer is complete when the server closes the connection or the problem's JSON has ended.
        await Eventually.UntilAsync(() => reading.IsCompleted || answer.ToString().TrimEnd().EndsWith('}'),
            TimeSpan.FromSeconds(30), "the gateway answers the oversized upload");
        var text = answer.ToString();
        var status = text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text.AsSpan(9, 3), CultureInfo.InvariantCulture) : 0;
        return (status, text, sent);
    }
}

/// <summary>The gateway key the AppHost uses by default.</summary>
internal static class GatewayKeys
{
    public const string Development = Aspire.Hosting.GatewayApiKeyExtensions.DevelopmentKey;
}
