using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace Gateway.Tests;

/// <summary>API keys, path checks and rate limits at the gateway, against real backends on loopback ports.</summary>
public sealed class FrontDoorTests
{
    private static async Task<JsonElement> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    public async Task Without_a_key_or_with_a_wrong_one_the_answer_is_401_and_nothing_is_forwarded()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var anonymous = gateway.CreateClient();

        using var none = await anonymous.GetAsync(new Uri("/api/documents", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("api_key_missing", (await ProblemOf(none)).GetProperty("code").GetString());
        Assert.Contains(none.Headers.WwwAuthenticate, h => h.Scheme == "ApiKey");

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents", UriKind.Relative));
        wrong.Headers.Add("X-Api-Key", "not-the-key-at-all");
        using var wrongAnswer = await anonymous.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);
        var problem = await ProblemOf(wrongAnswer);
        Assert.Equal("api_key_invalid", problem.GetProperty("code").GetString());
        Assert.DoesNotContain("not-the-key-at-all", problem.GetRawText(), StringComparison.Ordinal);

        using var upload = await anonymous.PostAsync(new Uri("/api/documents", UriKind.Relative), new StringContent("x"));
        Assert.Equal(HttpStatusCode.Unauthorized, upload.StatusCode);
        Assert.Empty(ingest.Paths);
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    [Trait("Req", "SEC-2")]
    public async Task A_valid_key_in_either_header_passes_and_the_service_gets_the_client_name_never_the_key()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var client = gateway.CreateClient();

        using var byHeader = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents", UriKind.Relative));
        byHeader.Headers.Add("X-Api-Key", TestGateway.Key);
        // A client cannot choose its own identity.
        byHeader.Headers.Add("X-Suite-Client", "someone-else");
        using var first = await client.SendAsync(byHeader);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var byBearer = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc", UriKind.Relative));
        byBearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.Key);
        using var second = await client.SendAsync(byBearer);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        Assert.Equal(2, ingest.Headers.Count);
        foreach (var headers in ingest.Headers)
        {
            Assert.DoesNotContain(TestGateway.Key, headers, StringComparison.Ordinal);
            Assert.Contains($"X-Suite-Client: {TestGateway.ClientName}", headers, StringComparison.Ordinal);
            Assert.DoesNotContain("someone-else", headers, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    [Trait("Req", "WS-1")]
    public async Task A_browser_websocket_may_offer_its_key_as_a_subprotocol_which_is_checked_and_never_forwarded()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var client = gateway.CreateClient();
        static string Offer(string key) =>
            "suite-events, suite-key." + Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc/ws", UriKind.Relative));
        wrong.Headers.TryAddWithoutValidation("Sec-WebSocket-Protocol", Offer("not-the-key-at-all"));
        using var refused = await client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("api_key_invalid", (await ProblemOf(refused)).GetProperty("code").GetString());
        Assert.Empty(ingest.Paths);

        using var right = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/documents/abc/ws", UriKind.Relative));
        right.Headers.TryAddWithoutValidation("Sec-WebSocket-Protocol", Offer(TestGateway.Key));
        using var passed = await client.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        var headers = Assert.Single(ingest.Headers);
        Assert.Contains($"X-Suite-Client: {TestGateway.ClientName}", headers, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Protocol: suite-events", headers, StringComparison.Ordinal);
        Assert.DoesNotContain("suite-key.", headers, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    public async Task Health_page_images_and_the_label_studio_webhook_need_no_key_everything_else_does()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var bridge = await RecordingBackend.StartAsync("bridge-0");
        await using var gateway = TestGateway.Create([ingest.Url], bridge.Url);
        using var anonymous = gateway.CreateClient();

        using var live = await anonymous.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var webhook = await anonymous.PostAsync(new Uri("/api/labeling/webhooks/label-studio", UriKind.Relative), new StringContent("{}"));
        Assert.Equal("bridge-0:POST:/api/labeling/webhooks/label-studio", await webhook.Content.ReadAsStringAsync());

        // Page images are loaded by Label Studio's browser pages, which cannot send a key: the document's random
        // 128-bit id is the capability. Nothing else of the document is open.
        using var image = await anonymous.GetAsync(new Uri("/api/documents/abc/pages/1/image", UriKind.Relative));
        Assert.Equal("ingest-0:GET:/api/documents/abc/pages/1/image", await image.Content.ReadAsStringAsync());
        using var result = await anonymous.GetAsync(new Uri("/api/documents/abc/result", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, result.StatusCode);
    }

    public static TheoryData<string> TrickPaths => new()
    {
        "/api/documents/..%2F..%2Finternal/documents/abc/claim",
        "/api/documents/%2e%2e/%2e%2e/internal/documents/abc/claim",
        "/api/documents/abc%2Fresult",
        "/api/documents/abc%5C..%5Cinternal",
        "/api/documents/../../internal/documents/abc/claim",
        "/api/documents/./abc",
        "/api//documents",
        "//internal/documents/abc/claim",
        "/api/documents/abc\\..\\..\\internal",
    };

    [Theory]
    [MemberData(nameof(TrickPaths))]
    [Trait("Req", "SEC-1")]
    public async Task Encoded_separators_dot_segments_and_double_slashes_are_refused_before_anything_is_forwarded(string target)
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        // The raw target must reach the server byte for byte (HttpClient would normalise dot segments), so it is sent
        // over a plain socket to a real Kestrel gateway.
        var (status, body) = await RawGetAsync(gateway, target);

        Assert.Equal(400, status);
        Assert.Contains("\"code\":\"invalid_path\"", body, StringComparison.Ordinal);
        Assert.Empty(ingest.Paths);
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    public async Task An_encoded_NUL_is_refused_by_Kestrel_itself_and_nothing_is_forwarded()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);

        // Kestrel rejects the request line before any middleware runs, so this 400 has no problem body.
        var (status, _) = await RawGetAsync(gateway, "/api/documents/%00");

        Assert.Equal(400, status);
        Assert.Empty(ingest.Paths);
    }

    [Theory]
    [InlineData("/INTERNAL/documents/abc/claim")]
    [InlineData("/Internal/Artifacts/abc")]
    [InlineData("/api/Internal/documents")]
    [Trait("Req", "SEC-1")]
    public async Task Internal_routes_in_any_case_are_not_found(string path)
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url]);
        using var client = gateway.CreateKeyedClient();

        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(ingest.Paths);
    }

    [Fact]
    [Trait("Req", "LS-3")]
    public async Task Uploads_have_their_own_stricter_bucket_and_a_client_over_it_gets_429_with_a_usable_Retry_After()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url], settings: new Dictionary<string, string>
        {
            ["Gateway:RateLimits:Uploads:TokenLimit"] = "3",
            ["Gateway:RateLimits:Uploads:TokensPerPeriod"] = "1",
            ["Gateway:RateLimits:Uploads:PeriodSeconds"] = "30",
            ["Gateway:RateLimits:Requests:TokenLimit"] = "50",
            ["Gateway:RateLimits:Requests:TokensPerPeriod"] = "50",
            ["Gateway:RateLimits:Requests:PeriodSeconds"] = "30",
        });
        using var client = gateway.CreateKeyedClient();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5; i++)
        {
            var response = await client.PostAsync(new Uri("/api/documents", UriKind.Relative), new StringContent("x"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using (refused)
        {
            var problem = await ProblemOf(refused!);
            Assert.Equal("rate_limited", problem.GetProperty("code").GetString());
            Assert.True(problem.GetProperty("retryable").GetBoolean());
            var retryAfter = refused!.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        }

        // Reads come out of the other bucket, still full.
        using var read = await client.GetAsync(new Uri("/api/documents", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(4, ingest.Paths.Count);
    }

    [Fact]
    [Trait("Req", "LS-6")]
    public async Task An_upload_over_the_gateway_limit_is_refused_with_413_while_it_streams_and_nothing_is_forwarded_whole()
    {
        await using var ingest = await RecordingBackend.StartAsync("ingest-0");
        await using var gateway = TestGateway.Create([ingest.Url], settings: new Dictionary<string, string>
        {
            ["ReverseProxy:Routes:uploads:MaxRequestBodySize"] = "1000",
        });
        // Kestrel enforces the limit (the in-memory test server does not).
        gateway.UseKestrel(0);
        gateway.StartServer();
        using var client = gateway.CreateKeyedClient();

        using var response = await client.PostAsync(new Uri("/api/documents", UriKind.Relative), new ByteArrayContent(new byte[5000]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await ProblemOf(response);
        Assert.Equal("file_too_large", problem.GetProperty("code").GetString());
        Assert.Equal(1000, problem.GetProperty("maxBytes").GetInt64());
    }

    [Fact]
    [Trait("Req", "SEC-1")]
    public void Started_without_any_key_the_gateway_refuses_to_start_and_names_the_setting()
    {
        using var gateway = new WebApplicationFactory<Program>();
        var error = Assert.ThrowsAny<OptionsValidationException>(() => gateway.CreateClient());
        Assert.Contains("Gateway:ApiKeys", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Sends a GET with the target exactly as given, to a real Kestrel listener hosting the gateway.</summary>
    private static async Task<(int Status, string Body)> RawGetAsync(WebApplicationFactory<Program> gateway, string target)
    {
        gateway.UseKestrel(0);
        gateway.StartServer();
        var address = gateway.ClientOptions.BaseAddress;
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        await using var stream = socket.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Api-Key: {TestGateway.Key}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }
}
