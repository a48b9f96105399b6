using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IngestService.Webhooks;
using Suite.Testing;
using Suite.Testing.Webhooks;

namespace IngestService.Tests;

/// <summary>
/// Completion webhooks on real parts (Req OUT-1): a real SQLite catalog and redis-server, the service in-process or as a
/// child process, and a real Kestrel receiver on 127.0.0.1 (allowed by Sources:AllowedHosts). The budgets are scaled
/// down by configuration: rounds 1 s apart instead of minutes, so "down for a minute" is a few seconds here.
/// </summary>
[Collection("url-sources")]
public sealed class WebhookTests(UrlSourceFixture fixture)
{
    private const string DefaultSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3nFmQ5yVzKg=";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Fast rounds for tests; <paramref name="extra"/> on top.</summary>
    private static Dictionary<string, string?> Settings(int maxAttempts = 30, params (string Key, string Value)[] extra)
    {
        var settings = UrlSourceFixture.Settings("127.0.0.1");
        settings["Webhooks:PollMilliseconds"] = "100";
        settings["Webhooks:RetriesPerRound"] = "1";
        settings["Webhooks:RetryDelayMilliseconds"] = "50";
        settings["Webhooks:RoundDelaySeconds"] = "1";
        settings["Webhooks:MaxRoundDelaySeconds"] = "1";
        settings["Webhooks:AttemptTimeoutSeconds"] = "2";
        settings["Webhooks:ConnectTimeoutSeconds"] = "1";
        settings["Webhooks:ClaimSeconds"] = "20";
        settings["Webhooks:BreakerBreakSeconds"] = "1";
        settings["Webhooks:MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    [Trait("Req", "RTY-2")]
    [Trait("Req", "CB-3")]
    public async Task A_receiver_down_then_failing_gets_every_notification_signed_once_deduplicated()
    {
        await using var receiver = new WebhookReceiver();
        await using var host = IngestHost.Create(fixture.Redis.ConnectionString, Settings(extra:
        [
            ("Webhooks:Subscriptions:audit:Url", receiver.At("/default").ToString()),
            ("Webhooks:Subscriptions:audit:Secret", DefaultSecret),
        ])).Start();

        // Two documents with their own callback; one completes, one fails. The receiver is down meanwhile.
        var (completed, completedSecret) = await UploadWithCallbackAsync(host.Client, receiver.At("/hook"));
        var (failed, failedSecret) = await UploadWithCallbackAsync(host.Client, receiver.At("/hook"));
        var worker = new FakeWorker(host.Client, completed);
        await worker.ClaimAsync();
        await worker.CompleteAsync();
        var failing = new FakeWorker(host.Client, failed);
        await failing.ClaimAsync();
        await failing.FailAsync("no_content", "nothing could be read");

        // Down: the deliveries are tried, fail, and wait pending with their error.
        await Eventually.UntilAsync(async () => (await DeliveriesAsync(host.Client, completed)).All(d => d.Attempts >= 2 && d.Status == "pending"),
            Patience, "the deliveries were tried while the receiver was down");
        var whileDown = await DeliveriesAsync(host.Client, completed);
        Assert.Equal(["audit", "callback"], whileDown.Select(d => d.Subscription).Order(StringComparer.Ordinal));
        // Connection refused, and soon the destination's breaker open: its deliveries then wait without a request.
        Assert.All(whileDown, d => Assert.True(
            d.LastError!.Contains("could not be reached", StringComparison.Ordinal) || d.LastError.Contains("circuit breaker", StringComparison.Ordinal), d.LastError));
        // Readiness shows it: Degraded (the service stays in rotation), naming the paused destination.
        await Eventually.UntilAsync(async () =>
        {
            using var ready = await host.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("webhooks");
            return ready.StatusCode == HttpStatusCode.OK && check.GetProperty("status").GetString() == "Degraded"
                   && check.GetProperty("data").GetProperty("openDestinations").EnumerateArray().Any(d => d.GetString()!.StartsWith("127.0.0.1", StringComparison.Ordinal));
        }, Patience, "readiness shows the receiver's breaker open");

        // Back, but answering 500 three times first.
        foreach (var _ in Enumerable.Range(0, 3))
        {
            receiver.Script.Enqueue(500);
        }

        await receiver.StartAsync();
        await Eventually.UntilAsync(() => receiver.Unique.Count == 4, Patience, "four notifications answered 200");
        await Eventually.UntilAsync(async () => (await DeliveriesAsync(host.Client, completed)).Concat(await DeliveriesAsync(host.Client, failed))
            .All(d => d.Status == "delivered"), Patience, "every delivery recorded as delivered");

        // Each request signed with its subscription's secret; a webhook-id seen again carries the same body.
        Assert.True(receiver.Received.Count(r => r.AnsweredStatus == 500) == 3, "three requests were answered 500");
        foreach (var request in receiver.Received)
        {
            var document = JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("id").GetString();
            var secret = request.Path == "/default" ? DefaultSecret : document == completed ? completedSecret : failedSecret;
            Assert.True(request.IsSignedWith(secret), $"signature of {request.Id} to {request.Path}");
            Assert.Equal("application/json", request.ContentType?.Split(';')[0]);
            Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(request.Timestamp, CultureInfo.InvariantCulture)) < 120);
        }

        var repeated = receiver.Received.GroupBy(r => r.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        Assert.NotEmpty(repeated);
        Assert.All(repeated, g => Assert.Single(g.Select(r => r.Body).Distinct(StringComparer.Ordinal)));

        var types = receiver.Unique.Select(r => JsonDocument.Parse(r.Body).RootElement)
            .Select(b => (Type: b.GetProperty("type").GetString(), Id: b.GetProperty("data").GetProperty("id").GetString(), Status: b.GetProperty("data").GetProperty("status").GetString()))
            .ToList();
        Assert.Equal(2, types.Count(t => t is { Type: "document.completed", Status: "completed" } && t.Id == completed));
        Assert.Equal(2, types.Count(t => t is { Type: "document.failed", Status: "failed" } && t.Id == failed));
        var failure = receiver.Unique.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("data"))
            .First(d => d.GetProperty("id").GetString() == failed);
        Assert.Equal("no_content", failure.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal($"/api/documents/{completed}/result", receiver.Unique.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("data"))
            .First(d => d.GetProperty("id").GetString() == completed).GetProperty("links").GetProperty("result").GetString());
        Assert.All(await DeliveriesAsync(host.Client, completed), d => Assert.True(d.Attempts >= 3, $"{d.Id}: {d.Attempts} attempts"));
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    [Trait("Req", "ERR-1")]
    public async Task A_receiver_that_never_comes_back_is_dead_lettered_visibly_and_can_be_redelivered()
    {
        await using var receiver = new WebhookReceiver();
        await using var host = IngestHost.Create(fixture.Redis.ConnectionString, Settings(maxAttempts: 4)).Start();
        var (id, secret) = await UploadWithCallbackAsync(host.Client, receiver.At("/never"));
        using (var cancel = await host.Client.DeleteAsync(new Uri($"/api/documents/{id}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        await Eventually.UntilAsync(async () => (await DeliveriesAsync(host.Client, id)).Single().Status == "dead_lettered", Patience, "dead-lettered");
        var dead = (await DeliveriesAsync(host.Client, id)).Single();
        Assert.Equal(4, dead.Attempts);
        Assert.Contains("MaxAttempts", dead.LastError, StringComparison.Ordinal);
        Assert.Equal("document.cancelled", dead.Type);

        using (var list = await host.Client.GetAsync(new Uri("/api/webhooks/dead-letters?limit=200", UriKind.Relative)))
        {
            var items = (await Api.JsonAsync(list)).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
            Assert.Contains(dead.Id, items);
        }

        await Api.AssertProblemAsync(await host.Client.GetAsync(new Uri("/api/webhooks/dead-letters?limit=0", UriKind.Relative)), 400, "invalid_limit");
        await Api.AssertProblemAsync(await host.Client.PostAsync(new Uri("/api/webhooks/deliveries/msg_nope/redeliver", UriKind.Relative), null), 404, "webhook_delivery_not_found");

        // Once it is back, a redelivery goes through under the same webhook-id.
        await receiver.StartAsync();
        using (var again = await host.Client.PostAsync(new Uri($"/api/webhooks/deliveries/{dead.Id}/redeliver", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }

        await Eventually.UntilAsync(() => receiver.Unique.Count == 1, Patience, "redelivered");
        Assert.Equal(dead.Id, receiver.Unique[0].Id);
        Assert.True(receiver.Unique[0].IsSignedWith(secret));
        await Api.AssertProblemAsync(await host.Client.PostAsync(new Uri($"/api/webhooks/deliveries/{dead.Id}/redeliver", UriKind.Relative), null), 409, "webhook_not_dead_lettered");
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    [Trait("Req", "OUT-2")]
    public async Task A_notification_still_pending_when_its_document_is_deleted_is_delivered_signed_afterwards()
    {
        // The receiver is down: the cancel's notification waits in the outbox while the document is deleted.
        await using var receiver = new WebhookReceiver();
        await using var host = IngestHost.Create(fixture.Redis.ConnectionString, Settings()).Start();
        var (id, secret) = await UploadWithCallbackAsync(host.Client, receiver.At("/late"));
        using (var purge = await host.Client.DeleteAsync(new Uri($"/api/documents/{id}?purge=true", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, purge.StatusCode);
        }

        await Api.AssertProblemAsync(await host.Client.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative)), 410, "document_deleted");

        await receiver.StartAsync();
        await Eventually.UntilAsync(() => receiver.Unique.Count == 1, Patience, "the deleted document's notification arrives");
        var notification = receiver.Unique[0];
        Assert.True(notification.IsSignedWith(secret));
        Assert.Contains("document.cancelled", notification.Body, StringComparison.Ordinal);
        Assert.Contains(id, notification.Body, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    [Trait("Req", "FMT-3")]
    public async Task A_callbackUrl_to_a_private_address_or_of_a_bad_form_is_refused_at_upload()
    {
        // The fixture's host allows 127.0.0.1 only: other private addresses are refused, like URL sources.
        foreach (var url in new[] { "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]:8080/x" })
        {
            var problem = await Api.AssertProblemAsync(await UploadAsync(fixture.Client, url), 400, "invalid_callback_url");
            Assert.Equal("callbackUrl", problem.GetProperty("field").GetString());
            Assert.Contains("not a public internet address", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        foreach (var url in new[] { "ftp://example.com/x", "not a url", "http://user:pw@example.com/" })
        {
            await Api.AssertProblemAsync(await UploadAsync(fixture.Client, url), 400, "invalid_callback_url");
        }

        // Without an allow-list even loopback is refused.
        await using var strict = IngestHost.Create(fixture.Redis.ConnectionString, UrlSourceFixture.Settings()).Start();
        await Api.AssertProblemAsync(await UploadAsync(strict.Client, "http://127.0.0.1:9/hook"), 400, "invalid_callback_url");

        // The same rule for a URL upload's JSON member.
        using var json = await strict.Client.PostAsJsonAsync(new Uri("/api/documents", UriKind.Relative),
            new Dictionary<string, string> { ["url"] = "https://example.com/a.pdf", ["callbackUrl"] = "http://192.168.1.1/x" });
        await Api.AssertProblemAsync(json, 400, "invalid_callback_url");
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    public void The_signature_is_the_documented_HMAC_and_verifies_with_the_documented_check()
    {
        // A fixed vector: the documented algorithm computed independently here.
        const string id = "msg_0123456789abcdef0123456789abcdef";
        const long timestamp = 1_800_000_000;
        const string body = "{\"type\":\"document.completed\"}";
        var key = Convert.FromBase64String(DefaultSecret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key,
            System.Text.Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

        var signature = WebhookSigner.Sign(DefaultSecret, id, timestamp, body);
        Assert.Equal(expected, signature);
        Assert.True(WebhookVerifier.Verify(DefaultSecret, id, "1800000000", body, "v1,bm90IGl0 " + signature));
        Assert.False(WebhookVerifier.Verify(DefaultSecret, id, "1800000000", body + " ", signature));
        Assert.False(WebhookVerifier.Verify(DefaultSecret, id, "1800000001", body, signature));
        Assert.False(WebhookVerifier.Verify(WebhookSigner.NewSecret(), id, "1800000000", body, signature));
        Assert.True(WebhookSigner.IsValidSecret(WebhookSigner.NewSecret()));
        Assert.False(WebhookSigner.IsValidSecret("whsec_c2hvcnQ="));
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    [Trait("Req", "SU-1")]
    public async Task A_default_subscription_with_a_bad_url_or_secret_stops_start_up()
    {
        await using var host = IngestHost.Create(fixture.Redis.ConnectionString, Settings(extra:
        [
            ("Webhooks:Subscriptions:audit:Url", "ftp://example.com/x"),
            ("Webhooks:Subscriptions:audit:Secret", "not-a-secret"),
        ]));
        var failure = Assert.ThrowsAny<Exception>(() => host.Start());
        var message = failure.ToString();
        Assert.Contains("Webhooks:Subscriptions:audit:Url", message, StringComparison.Ordinal);
        Assert.Contains("Webhooks:Subscriptions:audit:Secret", message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "OUT-1")]
    public async Task IngestService_killed_between_the_documents_end_and_the_delivery_delivers_after_restart()
    {
        await using var receiver = new WebhookReceiver();
        var root = Directory.CreateTempSubdirectory("ingest-webhooks-").FullName;
        var settings = Settings().Where(s => s.Value is not null).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
        string id;
        string secret;
        await using (var first = await IngestProcess.StartAsync(root, fixture.Redis.ConnectionString, settings))
        {
            using var client = first.NewClient();
            (id, secret) = await UploadWithCallbackAsync(client, receiver.At("/after-crash"));
            var worker = new FakeWorker(client, id);
            await worker.ClaimAsync();
            await worker.CompleteAsync();
            await Eventually.UntilAsync(async () => (await DeliveriesAsync(client, id)).Single().Attempts >= 1, Patience, "tried while the receiver is down");
            Assert.Equal("pending", (await DeliveriesAsync(client, id)).Single().Status);
        } // disposed: SIGKILL, no shutdown of any kind

        await receiver.StartAsync();
        await using var second = await IngestProcess.StartAsync(root, fixture.Redis.ConnectionString, settings);
        await Eventually.UntilAsync(() => receiver.Unique.Count == 1, Patience, "delivered after the restart");
        var delivered = receiver.Unique[0];
        Assert.True(delivered.IsSignedWith(secret));
        Assert.Equal(id, JsonDocument.Parse(delivered.Body).RootElement.GetProperty("data").GetProperty("id").GetString());
        using var after = second.NewClient();
        await Eventually.UntilAsync(async () => (await DeliveriesAsync(after, id)).Single().Status == "delivered", Patience, "recorded as delivered");
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string callbackUrl)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(callbackUrl), "callbackUrl");
        form.Add(new ByteArrayContent(Api.MinimalPdf), "file", "doc.pdf");
        return await client.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
    }

    private static async Task<(string Id, string Secret)> UploadWithCallbackAsync(HttpClient client, Uri callbackUrl)
    {
        using var response = await UploadAsync(client, callbackUrl.ToString());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var answer = JsonDocument.Parse(body).RootElement;
        Assert.Equal(callbackUrl.ToString(), answer.GetProperty("callbackUrl").GetString());
        return (answer.GetProperty("id").GetString()!, answer.GetProperty("callbackSecret").GetString()!);
    }

    private static async Task<List<Delivery>> DeliveriesAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync(new Uri($"/api/documents/{id}/webhooks", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<DeliveryList>(text, JsonSerializerOptions.Web)!.Items;
    }

    private sealed record DeliveryList(List<Delivery> Items);

    private sealed record Delivery(string Id, string Subscription, string Type, string Status, int Attempts, string? LastError);
}
