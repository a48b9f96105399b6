using System.Net;
using System.Net.Sockets;
using LabelingBridge.Configuration;
using LabelingBridge.Exports;
using LabelingBridge.LabelStudio;
using LabelingBridge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Suite.Contracts;

namespace LabelingBridge.Tests;

/// <summary>Unit tests of the policies: error classification, backoff, budgets, geometry, labels, token detection.</summary>
public sealed class PolicyTests
{
    [Theory]
    [Trait("Req", "RTY-1")]
    [InlineData(500, "server_error", true)]
    [InlineData(502, "server_error", true)]
    [InlineData(503, "server_error", true)]
    [InlineData(408, "timeout", true)]
    [InlineData(429, "throttled", true)]
    [InlineData(400, "invalid_request", false)]
    [InlineData(422, "invalid_request", false)]
    [InlineData(401, "credentials_rejected", false)]
    [InlineData(403, "credentials_rejected", false)]
    [InlineData(404, "not_found", false)]
    [InlineData(409, "conflict", false)]
    public void Http_statuses_are_classified_retryable_or_permanent(int status, string code, bool retryable)
    {
        var error = LabelStudioError.FromStatus(status, "detail");
        Assert.Equal((code, retryable, status), (error.Code, error.Retryable, error.StatusCode!.Value));
    }

    [Fact]
    [Trait("Req", "RTY-1")]
    [Trait("Req", "TMO-7")]
    public void Exceptions_are_classified_with_timeouts_apart_from_network_errors()
    {
        Assert.Equal("timeout", LabelStudioError.FromException(new TimeoutRejectedException("t", TimeSpan.FromSeconds(1)))!.Code);
        Assert.Equal("timeout", LabelStudioError.FromException(new TaskCanceledException("connect", new TimeoutException()))!.Code);
        Assert.Equal("network", LabelStudioError.FromException(new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused)))!.Code);
        Assert.Equal("server_error", LabelStudioError.FromException(new HttpRequestException("bad", null, HttpStatusCode.BadGateway))!.Code);
        var open = LabelStudioError.FromException(new BrokenCircuitException("open", TimeSpan.FromSeconds(3)))!;
        Assert.Equal(("breaker_open", false, true), (open.Code, open.Retryable, open.NotSent));
        Assert.Equal(TimeSpan.FromSeconds(3), open.RetryAfter);
        Assert.Null(LabelStudioError.FromException(new InvalidOperationException()));
        Assert.All(new[] { "timeout", "network", "server_error" }, code => Assert.True(new[]
        {
            LabelStudioError.FromException(new TimeoutRejectedException())!,
            LabelStudioError.FromException(new HttpRequestException("x"))!,
            LabelStudioError.FromStatus(500, null),
        }.Single(e => e.Code == code).Retryable));
    }

    [Fact]
    [Trait("Req", "RTY-2")]
    public void Backoff_grows_exponentially_with_jitter_and_is_capped()
    {
        var low = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), () => 0.0);
        var high = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), () => 1.0);
        Assert.Equal(TimeSpan.FromMilliseconds(100), low.DelayFor(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), high.DelayFor(1));
        Assert.Equal(TimeSpan.FromMilliseconds(800), high.DelayFor(3));
        Assert.Equal(TimeSpan.FromSeconds(5), high.DelayFor(30));
        Assert.Equal(TimeSpan.FromSeconds(2.5), low.DelayFor(30));

        var random = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        var samples = Enumerable.Range(0, 200).Select(_ => random.DelayFor(4)).ToList();
        Assert.All(samples, d => Assert.InRange(d, TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1600)));
        Assert.True(samples.Distinct().Count() > 10, "jitter spreads the delays");
    }

    [Fact]
    [Trait("Req", "RTY-3")]
    public void A_Retry_After_is_never_shortened_by_the_backoff_or_its_cap()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), () => 0.5);
        Assert.Equal(TimeSpan.FromSeconds(7), backoff.DelayFor(1, TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.FromMilliseconds(150), backoff.DelayFor(1, TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    [Trait("Req", "RTY-2")]
    [Trait("Req", "RTY-3")]
    [Trait("Req", "TMO-1")]
    public async Task Operations_retry_transient_errors_up_to_the_limit_and_never_wait_past_their_budget()
    {
        var operations = Operations(maxRetries: 3, totalSeconds: 2);

        var calls = 0;
        var error = await Assert.ThrowsAsync<LabelStudioException>(() => operations.RunAsync<int>("op", _ =>
        {
            calls++;
            throw new LabelStudioException(LabelStudioError.FromStatus(503, null));
        }, CancellationToken.None));
        Assert.Equal(4, calls);
        Assert.Equal("server_error", error.Error.Code);

        calls = 0;
        await Assert.ThrowsAsync<LabelStudioException>(() => operations.RunAsync<int>("op", _ =>
        {
            calls++;
            throw new LabelStudioException(LabelStudioError.FromStatus(400, null));
        }, CancellationToken.None));
        Assert.Equal(1, calls);

        // Retry-After of 10 s with a 2 s budget: no waiting at all, the error goes back at once with its Retry-After.
        calls = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var throttled = await Assert.ThrowsAsync<LabelStudioException>(() => operations.RunAsync<int>("op", _ =>
        {
            calls++;
            throw new LabelStudioException(LabelStudioError.FromStatus(429, null, TimeSpan.FromSeconds(10)));
        }, CancellationToken.None));
        Assert.Equal(1, calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(10), throttled.Error.RetryAfter);

        // An operation that hangs is cut at the total budget and reported as a timeout.
        var hung = await Assert.ThrowsAsync<LabelStudioException>(() => operations.RunAsync<int>("op", async ct =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }, CancellationToken.None));
        Assert.Equal("timeout", hung.Error.Code);
    }

    private static LabelStudioOperations Operations(int maxRetries, double totalSeconds)
    {
        var options = Options.Create(new LabelStudioOptions
        {
            Timeouts = new LabelStudioTimeouts { AttemptSeconds = 1, TotalSeconds = totalSeconds },
            Retry = new LabelStudioRetry { MaxRetries = maxRetries, BaseDelayMilliseconds = 10, MaxDelaySeconds = 0.05 },
        });
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new BridgeMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        return new LabelStudioOperations(options, TimeProvider.System, metrics, NullLogger<LabelStudioOperations>.Instance);
    }

    [Fact]
    public void Boxes_convert_from_PDF_points_bottom_left_to_percent_top_left_and_back()
    {
        var box = LayoutGeometry.ToPercent(new BoundingBox(72, 600, 540, 720), 612, 792)!.Value;
        Assert.Equal(11.7647, box.X);
        Assert.Equal(9.0909, box.Y);
        Assert.Equal(76.4706, box.Width);
        Assert.Equal(15.1515, box.Height);
        var back = LayoutGeometry.ToPoints(box, 612, 792);
        Assert.Equal(72, back.Left, 2);
        Assert.Equal(600, back.Bottom, 2);
        Assert.Equal(540, back.Right, 2);
        Assert.Equal(720, back.Top, 2);

        // Boxes past the page are clamped into it; boxes without area are dropped.
        var clamped = LayoutGeometry.ToPercent(new BoundingBox(-10, -10, 700, 900), 612, 792)!.Value;
        Assert.Equal(new PercentBox(0, 0, 100, 100), clamped);
        Assert.Null(LayoutGeometry.ToPercent(new BoundingBox(10, 10, 10, 50), 612, 792));
        Assert.Equal(1224, LayoutGeometry.Pixels(612, 2.0));
    }

    [Theory]
    [InlineData("title", "Title")]
    [InlineData("section_header", "Section-header")]
    [InlineData("paragraph", "Text")]
    [InlineData("text", "Text")]
    [InlineData("list_item", "List-item")]
    [InlineData("table", "Table")]
    [InlineData("picture", "Picture")]
    [InlineData("caption", "Caption")]
    [InlineData("page_header", "Page-header")]
    [InlineData("page_footer", "Page-footer")]
    [InlineData("footnote", "Footnote")]
    [InlineData("formula", "Formula")]
    [InlineData("code", "Text")]
    [InlineData("", "Text")]
    public void Block_roles_map_to_the_layout_labels(string role, string label) => Assert.Equal(label, LayoutLabels.ForRole(role));

    [Fact]
    public void A_JWT_with_an_expiry_is_a_personal_access_token_and_anything_else_a_legacy_token()
    {
        var pat = new LabelStudioEmulator.Auth.TokenService(new LabelStudioEmulator.EmulatorSettings(), TimeProvider.System).IssuePersonalAccessToken();
        Assert.NotNull(AccessTokenProvider.JwtExpiry(pat));
        Assert.Null(AccessTokenProvider.JwtExpiry("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"));
        Assert.Null(AccessTokenProvider.JwtExpiry("a.b.c"));
        Assert.Null(AccessTokenProvider.JwtExpiry("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"));
    }

    [Fact]
    public void The_labeling_config_offers_every_layout_label_on_the_image()
    {
        var config = LabelStudioEmulator.Model.LabelConfig.TryParse(LayoutLabels.LabelConfigXml(), out var problem);
        Assert.True(config is not null, problem);
        Assert.Equal("Image", config.Objects["image"].Type);
        Assert.Equal("image", config.Objects["image"].Variable);
        Assert.Equal(LayoutLabels.All.Select(l => l.Label), config.Controls["label"].Labels);
    }
}
