using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IngestService.Sources;
using Microsoft.Extensions.DependencyInjection;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// URL uploads on the real service against a real remote server on loopback: what is fetched, stored and shown, and
/// every refusal: non-public addresses (also after a redirect), a remote too slow or too big, a body that is not a PDF,
/// a malformed request (Req FMT-3 and the input rules every upload follows).
/// </summary>
[Collection("url-sources")]
public sealed class UrlSourceTests(UrlSourceFixture fixture)
{
    private HttpClient Client => fixture.Client;

    private RemoteDocumentServer Remote => fixture.Remote;

    /// <summary>The minimal PDF with a unique trailing comment, so each test has content no other test uploaded.</summary>
    private static byte[] UniquePdf() => [.. Api.MinimalPdf, .. Encoding.ASCII.GetBytes($"\n%{Guid.NewGuid():N}\n")];

    /// <summary>Serves <paramref name="body"/> at a fresh /doc/ path and returns its URL.</summary>
    private Uri Serve(byte[] body, string name = "remote.pdf", string? disposition = null)
    {
        var key = Guid.NewGuid().ToString("N") + "/" + name;
        Remote.Documents[key] = (body, disposition);
        return Remote.At("/doc/" + key);
    }

    private static async Task<HttpResponseMessage> UploadUrlAsync(HttpClient client, string json, string? idempotencyKey = null, string? query = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/documents" + (query is null ? "" : "?" + query), UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    private static string UrlBody(Uri url, string? fileName = null) =>
        JsonSerializer.Serialize(fileName is null ? new Dictionary<string, string> { ["url"] = url.AbsoluteUri } : new() { ["url"] = url.AbsoluteUri, ["fileName"] = fileName });

    private static Task<HttpResponseMessage> UploadUrlAsync(HttpClient client, Uri url, string? fileName = null) => UploadUrlAsync(client, UrlBody(url, fileName));

    private static async Task<JsonElement> AcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"URL upload answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<JsonElement> DetailAsync(string id)
    {
        using var response = await Client.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Api.JsonAsync(response);
    }

    private int UploadCount() => Directory.GetFiles(fixture.Host.UploadsDir).Length;

    private long DocumentCount()
    {
        using var catalog = fixture.Host.OpenCatalog();
        using var count = catalog.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM documents";
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Runs <paramref name="refused"/> and checks that it stored nothing: no upload file, no catalog row, no temp file.</summary>
    private async Task AssertStoresNothingAsync(Func<Task> refused)
    {
        var uploads = UploadCount();
        var documents = DocumentCount();
        await refused();
        Assert.Equal(uploads, UploadCount());
        Assert.Equal(documents, DocumentCount());
        Assert.Empty(Directory.GetFiles(fixture.Host.TempDir));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    [Trait("Req", "IN-1")]
    public async Task A_URL_on_an_allowed_host_is_fetched_stored_byte_for_byte_shown_with_its_source_and_enqueued()
    {
        var pdf = UniquePdf();
        var url = Serve(pdf, "annual report.pdf");

        using var response = await UploadUrlAsync(Client, url);

        var body = await AcceptedAsync(response);
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal($"/api/documents/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("annual report.pdf", body.GetProperty("fileName").GetString());
        Assert.Equal("queued", body.GetProperty("status").GetString());
        Assert.Equal(pdf.Length, body.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pdf)), body.GetProperty("sha256").GetString());
        Assert.Equal(JobPriority.Interactive, body.GetProperty("priority").GetString());

        Assert.Equal(pdf, await File.ReadAllBytesAsync(Path.Combine(fixture.Host.UploadsDir, id + ".pdf")));
        var detail = await DetailAsync(id);
        Assert.Equal(url.AbsoluteUri, detail.GetProperty("sourceUrl").GetString());
        Assert.Equal("queued", detail.GetProperty("status").GetString());
        Assert.Single(await Api.JobEntriesAsync(fixture.RedisClient, id));
        Assert.Empty(Directory.GetFiles(fixture.Host.TempDir));
    }

    [Fact]
    [Trait("Req", "IN-2")]
    public async Task The_file_name_is_the_clients_else_the_remotes_Content_Disposition_else_the_URL_path_and_is_sanitized()
    {
        var fromField = await AcceptedAsync(await UploadUrlAsync(Client, Serve(UniquePdf()), fileName: "../../etc/mine.pdf"));
        var fromHeader = await AcceptedAsync(await UploadUrlAsync(Client, Serve(UniquePdf(), "download", "attachment; filename=\"from-header.pdf\"")));
        var fromPath = await AcceptedAsync(await UploadUrlAsync(Client, Serve(UniquePdf(), "path-name.pdf")));

        Assert.Equal("mine.pdf", fromField.GetProperty("fileName").GetString());
        Assert.Equal("from-header.pdf", fromHeader.GetProperty("fileName").GetString());
        Assert.Equal("path-name.pdf", fromPath.GetProperty("fileName").GetString());
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task A_redirect_to_an_allowed_host_is_followed_and_named_after_where_it_ended()
    {
        var target = Serve(UniquePdf(), "final.pdf");
        var redirect = Remote.At("/redirect?to=" + Uri.EscapeDataString(target.ToString()));

        var body = await AcceptedAsync(await UploadUrlAsync(Client, redirect));

        Assert.Equal("final.pdf", body.GetProperty("fileName").GetString());
        Assert.StartsWith(Remote.At("/redirect").ToString(), (await DetailAsync(body.GetProperty("id").GetString()!)).GetProperty("sourceUrl").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task The_same_URL_is_refused_by_a_service_whose_allow_list_does_not_name_the_host()
    {
        var url = Serve(UniquePdf());
        await using var strict = IngestHost.Create(fixture.Redis.ConnectionString, UrlSourceFixture.Settings()).Start();
        var requestsBefore = Remote.Requests.Count;

        using var response = await UploadUrlAsync(strict.Client, url);

        var problem = await Api.AssertProblemAsync(response, 422, "url_forbidden");
        Assert.Contains("loopback address 127.0.0.1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Sources:AllowedHosts", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("url", problem.GetProperty("field").GetString());
        Assert.False(problem.GetProperty("retryable").GetBoolean());
        Assert.Equal(requestsBefore, Remote.Requests.Count);
        Assert.Empty(Directory.GetFiles(strict.UploadsDir));
        Assert.Empty(Directory.GetFiles(strict.TempDir));
        using var catalog = strict.OpenCatalog();
        using var count = catalog.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM documents";
        Assert.Equal(0L, count.ExecuteScalar());
    }

    [Theory]
    [Trait("Req", "FMT-3")]
    [InlineData("http://127.0.0.2:{port}/doc/x.pdf", "loopback address 127.0.0.2")]
    [InlineData("http://[::1]:{port}/doc/x.pdf", "loopback address ::1")]
    [InlineData("http://0.0.0.0:{port}/doc/x.pdf", "unspecified")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254")]
    [InlineData("http://10.20.30.40/x.pdf", "private address 10.20.30.40")]
    [InlineData("http://192.168.0.10/x.pdf", "private address 192.168.0.10")]
    [InlineData("http://100.64.1.1/x.pdf", "carrier-grade NAT")]
    [InlineData("http://[::ffff:127.0.0.2]:{port}/doc/x.pdf", "loopback address 127.0.0.2")]
    [InlineData("http://[fd00::1]/x.pdf", "unique-local")]
    [InlineData("http://[fe80::1]/x.pdf", "link-local")]
    public async Task Non_public_addresses_are_refused_before_any_connection_and_nothing_is_stored(string template, string reason)
    {
        var url = template.Replace("{port}", Remote.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var requestsBefore = Remote.Requests.Count;

        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, new Uri(url));
            var problem = await Api.AssertProblemAsync(response, 422, "url_forbidden");
            Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(requestsBefore, Remote.Requests.Count);
    }

    [Theory]
    [Trait("Req", "FMT-3")]
    [InlineData("http://10.0.0.5/secret.pdf", "private address 10.0.0.5")]
    [InlineData("http://127.0.0.2:{port}/doc/x.pdf", "loopback address 127.0.0.2")]
    [InlineData("file:///etc/passwd", "scheme is file:")]
    [InlineData("http://user:pw@127.0.0.1:{port}/doc/x.pdf", "user name or password")]
    public async Task A_redirect_from_an_allowed_host_to_a_forbidden_target_is_refused(string template, string reason)
    {
        var target = template.Replace("{port}", Remote.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var redirect = Remote.At("/redirect?to=" + Uri.EscapeDataString(target));

        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, redirect);
            var problem = await Api.AssertProblemAsync(response, 422, "url_forbidden");
            Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(0, Remote.CountOf("/doc/x.pdf"));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task More_redirects_than_allowed_end_with_url_fetch_failed()
    {
        var url = Serve(UniquePdf());
        for (var i = 0; i < 4; i++)
        {
            url = Remote.At("/redirect?to=" + Uri.EscapeDataString(url.ToString()));
        }

        using var response = await UploadUrlAsync(Client, url);

        var problem = await Api.AssertProblemAsync(response, 502, "url_fetch_failed");
        Assert.Contains("more than 3 times", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    [Trait("Req", "TMO-1")]
    [Trait("Req", "TMO-7")]
    public async Task A_remote_that_trickles_its_body_hits_the_total_timeout_with_504_and_leaves_no_temp_file()
    {
        var clock = Stopwatch.StartNew();
        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, Remote.At("/trickle"));
            var problem = await Api.AssertProblemAsync(response, 504, "url_timeout");
            Assert.True(problem.GetProperty("retryable").GetBoolean());
            Assert.Contains($"within {UrlSourceFixture.TotalTimeoutSeconds} s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(UrlSourceFixture.TotalTimeoutSeconds - 0.5), TimeSpan.FromSeconds(UrlSourceFixture.TotalTimeoutSeconds + 10));
    }

    [Theory]
    [Trait("Req", "FMT-3")]
    [Trait("Req", "LS-6")]
    [Trait("Req", "IN-5")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_remote_body_over_the_upload_limit_is_refused_with_413_while_streaming(bool withContentLength)
    {
        var bytes = UrlSourceFixture.MaxUploadBytes + (1024 * 1024);

        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, Remote.At($"/huge?bytes={bytes}&length={(withContentLength ? "true" : "false")}"));
            var problem = await Api.AssertProblemAsync(response, 413, "file_too_large");
            Assert.Equal(UrlSourceFixture.MaxUploadBytes, problem.GetProperty("maxBytes").GetInt64());
        });
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    public async Task A_remote_body_in_no_readable_format_is_refused_with_the_multipart_paths_415()
    {
        // An executable's header, then bytes: no format the suite reads, whatever the name says.
        byte[] executable = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[4000]];

        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, Serve(executable, "page.pdf"));
            await Api.AssertProblemAsync(response, 415, "unsupported_format");
        });
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task An_empty_remote_body_is_refused_with_empty_file()
    {
        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, Serve([], "empty.pdf"));
            await Api.AssertProblemAsync(response, 400, "empty_file");
        });
    }

    [Fact]
    [Trait("Req", "RTY-1")]
    public async Task A_remote_4xx_is_not_retried_and_a_5xx_is_retried_then_answered_502_with_the_remote_status()
    {
        using (var notFound = await UploadUrlAsync(Client, Remote.At("/status/404")))
        {
            var problem = await Api.AssertProblemAsync(notFound, 502, "url_fetch_failed");
            Assert.Equal(404, problem.GetProperty("remoteStatus").GetInt32());
            Assert.False(problem.GetProperty("retryable").GetBoolean());
        }

        using (var unavailable = await UploadUrlAsync(Client, Remote.At("/status/503")))
        {
            var problem = await Api.AssertProblemAsync(unavailable, 502, "url_fetch_failed");
            Assert.Equal(503, problem.GetProperty("remoteStatus").GetInt32());
            Assert.True(problem.GetProperty("retryable").GetBoolean());
        }

        Assert.Equal(1, Remote.CountOf("/status/404"));
        Assert.Equal(2, Remote.CountOf("/status/503"));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task Response_headers_over_the_limit_are_refused()
    {
        using var response = await UploadUrlAsync(Client, Remote.At("/big-headers"));

        var problem = await Api.AssertProblemAsync(response, 502, "url_fetch_failed");
        Assert.Contains("headers are larger than 32 KiB", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, Remote.CountOf("/big-headers"));
    }

    [Fact]
    public async Task A_remote_whose_certificate_is_not_trusted_is_refused_with_url_fetch_failed_not_worth_retrying()
    {
        await using var untrusted = await RemoteDocumentServer.StartAsync(selfSignedTls: true);
        untrusted.Documents["x.pdf"] = (UniquePdf(), null);

        using var response = await UploadUrlAsync(Client, untrusted.At("/doc/x.pdf"));

        var problem = await Api.AssertProblemAsync(response, 502, "url_fetch_failed");
        Assert.Contains("TLS handshake", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(problem.GetProperty("retryable").GetBoolean());
        Assert.Empty(untrusted.Requests);
    }

    [Fact]
    [Trait("Req", "IN-9")]
    public async Task A_retried_URL_upload_with_the_same_Idempotency_Key_gets_the_first_answer_and_creates_one_document()
    {
        var url = Serve(UniquePdf());
        var key = Guid.NewGuid().ToString();

        using var first = await UploadUrlAsync(Client, UrlBody(url), key);
        using var retry = await UploadUrlAsync(Client, UrlBody(url), key);

        var firstBody = await AcceptedAsync(first);
        var retryBody = await AcceptedAsync(retry);
        Assert.Equal(firstBody.GetProperty("id").GetString(), retryBody.GetProperty("id").GetString());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Single(Directory.GetFiles(fixture.Host.UploadsDir, firstBody.GetProperty("id").GetString() + ".*"));
        Assert.Single(await Api.JobEntriesAsync(fixture.RedisClient, firstBody.GetProperty("id").GetString()!));
    }

    [Fact]
    [Trait("Req", "LS-2")]
    public async Task The_priority_query_applies_to_URL_uploads()
    {
        using var response = await UploadUrlAsync(Client, UrlBody(Serve(UniquePdf())), query: "priority=batch");

        var body = await AcceptedAsync(response);
        Assert.Equal(JobPriority.Batch, body.GetProperty("priority").GetString());
        Assert.Single(await Api.JobEntriesAsync(fixture.RedisClient, body.GetProperty("id").GetString()!, JobStreams.BatchJobs));
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Options_in_the_JSON_body_are_stored_and_echoed_and_a_bad_one_is_refused_before_anything_is_fetched()
    {
        var pdf = UniquePdf();
        var url = Serve(pdf, "options.pdf");
        var path = url.AbsolutePath;

        await AssertStoresNothingAsync(async () =>
        {
            using var bad = await UploadUrlAsync(Client, JsonSerializer.Serialize(new { url = url.AbsoluteUri, pageRange = "9-2" }));
            var problem = await Api.AssertProblemAsync(bad, 400, "invalid_option");
            Assert.Equal("pageRange", problem.GetProperty("field").GetString());
            using var notText = await UploadUrlAsync(Client, $$"""{"url": "{{url.AbsoluteUri}}", "tables": false}""");
            Assert.Equal("tables", (await Api.AssertProblemAsync(notText, 400, "invalid_option")).GetProperty("field").GetString());
        });
        Assert.Equal(0, Remote.CountOf(path));

        using var response = await UploadUrlAsync(Client, JsonSerializer.Serialize(new { url = url.AbsoluteUri, ocr = "off", pageRange = "1", images = "none" }));
        var id = (await AcceptedAsync(response)).GetProperty("id").GetString()!;
        var options = (await DetailAsync(id)).GetProperty("options");
        Assert.Equal("off", options.GetProperty("ocr").GetString());
        Assert.Equal("1", options.GetProperty("pageRange").GetString());
        Assert.Equal("none", options.GetProperty("images").GetString());
    }

    [Theory]
    [Trait("Req", "ERR-3")]
    [InlineData("""{"url": "https://example.com/a.pdf", "fileNmae": "a.pdf"}""", "unknown_option", "fileNmae")]
    [InlineData("""{"fileName": "a.pdf"}""", "invalid_url_request", "url")]
    [InlineData("""{"url": null}""", "invalid_url_request", "url")]
    [InlineData("""{"url": 42}""", "invalid_url_request", "url")]
    [InlineData("""{"url": "https://example.com/a.pdf", "url": "https://example.com/b.pdf"}""", "invalid_url_request", "url")]
    [InlineData("""{"url": "https://example.com/a.pdf", "fileName": 7}""", "invalid_url_request", "fileName")]
    [InlineData("""["https://example.com/a.pdf"]""", "invalid_url_request", null)]
    [InlineData("""{"url": "https://example.com/a.pdf" """, "invalid_url_request", null)]
    [InlineData("""{"url": "example.com/a.pdf"}""", "url_invalid", "url")]
    [InlineData("""{"url": "ftp://example.com/a.pdf"}""", "url_invalid", "url")]
    [InlineData("""{"url": "https://user:secret@example.com/a.pdf"}""", "url_invalid", "url")]
    public async Task A_JSON_body_that_is_not_a_URL_upload_is_refused_with_400_naming_the_field(string json, string code, string? field)
    {
        await AssertStoresNothingAsync(async () =>
        {
            using var response = await UploadUrlAsync(Client, json);
            var problem = await Api.AssertProblemAsync(response, 400, code);
            if (field is null)
            {
                Assert.False(problem.TryGetProperty("field", out _));
            }
            else
            {
                Assert.Equal(field, problem.GetProperty("field").GetString());
            }

            Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        });
    }

    [Fact]
    [Trait("Req", "SEC-2")]
    public async Task A_URLs_query_is_kept_without_its_values_and_never_shown_in_a_refusal_or_logged()
    {
        var secret = "sig-" + Guid.NewGuid().ToString("N");
        var url = new Uri(Serve(UniquePdf()) + "?X-Amz-Signature=" + secret);
        var body = await AcceptedAsync(await UploadUrlAsync(Client, url));
        Assert.Equal(url.GetLeftPart(UriPartial.Path) + "?X-Amz-Signature=" + SourceUrls.RedactedValue,
            (await DetailAsync(body.GetProperty("id").GetString()!)).GetProperty("sourceUrl").GetString());

        using var refused = await UploadUrlAsync(Client, new Uri($"http://10.9.9.9/x.pdf?X-Amz-Signature={secret}"));
        var text = await refused.Content.ReadAsStringAsync();
        Assert.Equal(422, (int)refused.StatusCode);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.Contains(fixture.Host.Logs.All, line => line.Contains("10.9.9.9", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Host.Logs.All, line => line.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public void The_URL_source_client_has_no_service_discovery_follows_no_redirect_and_uses_no_proxy()
    {
        var factory = fixture.Host.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        var handlers = new List<HttpMessageHandler>();
        for (HttpMessageHandler? handler = factory.CreateHandler(UrlFetcher.ClientName); handler is not null; handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            handlers.Add(handler);
        }

        Assert.DoesNotContain(handlers, h => h.GetType().Name.Contains("Resolving", StringComparison.Ordinal));
        Assert.Contains(handlers, h => h.GetType().Name.Contains("Resilience", StringComparison.Ordinal));
        var primary = Assert.IsType<SocketsHttpHandler>(handlers[^1]);
        Assert.False(primary.AllowAutoRedirect);
        Assert.False(primary.UseProxy);
        Assert.False(primary.UseCookies);
        Assert.Equal(DecompressionMethods.None, primary.AutomaticDecompression);
        Assert.NotNull(primary.ConnectCallback);

        // The default clients still have it: only this one is cut off from the suite's service names.
        var other = factory.CreateHandler("some-other-client");
        var names = new List<string>();
        for (HttpMessageHandler? handler = other; handler is not null; handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            names.Add(handler.GetType().Name);
        }

        Assert.Contains(names, n => n.Contains("Resolving", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "FMT-3")]
    public async Task The_client_connects_to_the_addresses_the_request_carries_and_checks_any_host_it_does_not()
    {
        var client = fixture.Host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(UrlFetcher.ClientName);
        var url = new Uri($"http://rebound.invalid:{Remote.Port}/doc/" + Serve(UniquePdf()).AbsolutePath["/doc/".Length..]);

        // What was checked is where the connection goes: the name is never resolved again (DNS rebinding has nothing to
        // rebind; this name does not even exist).
        using (var carried = new HttpRequestMessage(HttpMethod.Get, url))
        {
            carried.Options.Set(VettedHost.Key, new VettedHost("rebound.invalid", [IPAddress.Loopback]));
            using var response = await client.SendAsync(carried);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A host the request carries no check of is checked by the connect callback itself: refused, and not retried.
        var before = Remote.Requests.Count;
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(Remote.At("/doc/x.pdf").ToString().Replace("127.0.0.1", "127.0.0.2", StringComparison.Ordinal)));
        Assert.Equal(UrlRefusalKind.Forbidden, UrlSourceResilience.RefusalIn(refused)!.Refusal.Kind);
        Assert.Equal(before, Remote.Requests.Count);

        // A carried check of another host does not count for this one (a host of its own: a pooled connection, made to
        // an address checked for its host, is reused for that host without a new connect).
        using var mismatched = new HttpRequestMessage(HttpMethod.Get, new Uri(url.ToString().Replace("rebound.invalid", "unchecked.invalid", StringComparison.Ordinal)));
        mismatched.Options.Set(VettedHost.Key, new VettedHost("elsewhere.invalid", [IPAddress.Loopback]));
        var unresolved = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(mismatched));
        Assert.Equal(UrlRefusalKind.FetchFailed, UrlSourceResilience.RefusalIn(unresolved)!.Refusal.Kind);
    }

    [Theory]
    [Trait("Req", "SU-1")]
    [InlineData("Sources:AllowedHosts:0", "10.0.0.0/40", "Sources:AllowedHosts entry '10.0.0.0/40'")]
    [InlineData("Sources:TotalTimeoutSeconds", "0", "Sources:TotalTimeoutSeconds")]
    [InlineData("Sources:AttemptTimeoutSeconds", "60", "Sources:AttemptTimeoutSeconds must not be longer")]
    public async Task Invalid_source_settings_stop_start_up_naming_the_setting(string key, string value, string named)
    {
        await using var host = IngestHost.Create(fixture.Redis.ConnectionString, new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_neither_multipart_nor_JSON_is_refused_with_missing_file()
    {
        using var content = new ByteArrayContent(Api.MinimalPdf);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        using var response = await Client.PostAsync(new Uri("/api/documents", UriKind.Relative), content);

        var problem = await Api.AssertProblemAsync(response, 400, "missing_file");
        Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
