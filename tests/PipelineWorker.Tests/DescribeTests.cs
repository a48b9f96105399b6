using Microsoft.Extensions.DependencyInjection;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// The describe stage against an OpenAI-compatible endpoint on real HTTP: working, answering 500s, too slow,
/// down. Pictures stay undescribed and the document completes when it fails; its breaker opens and closes again.
/// </summary>
public sealed class DescribeTests
{
    /// <summary>Six pages, each one small embedded image: six pictures to describe. Engines are not needed here.</summary>
    private const string Pictures = "sf__imagemagick-images.pdf";

    private static Dictionary<string, string?> Settings(string url) => new()
    {
        ["Pipeline:Describe:Url"] = url,
        ["Pipeline:Describe:Model"] = "test-vision-model",
        ["Pipeline:Describe:ApiKey"] = "sk-test-secret",
        ["Pipeline:Render:Enabled"] = "false",
        ["Pipeline:Ocr:Enabled"] = "false",
        ["Resilience:vision:AttemptTimeout:Timeout"] = "00:00:01",
        ["Resilience:vision:TotalRequestTimeout:Timeout"] = "00:00:05",
        ["Resilience:vision:Retry:MaxRetryAttempts"] = "1",
        ["Resilience:vision:Retry:Delay"] = "00:00:00.050",
        ["Resilience:vision:CircuitBreaker:MinimumThroughput"] = "3",
        ["Resilience:vision:CircuitBreaker:FailureRatio"] = "0.5",
        ["Resilience:vision:CircuitBreaker:SamplingDuration"] = "00:00:10",
        ["Resilience:vision:CircuitBreaker:BreakDuration"] = "00:00:02",
    };

    [Fact]
    [Trait("Req", "DEG-6")]
    public async Task Describe_is_skipped_as_not_configured_without_a_url()
    {
        using var pipeline = new StagePipeline(new Dictionary<string, string?> { ["Pipeline:Render:Enabled"] = "false", ["Pipeline:Ocr:Enabled"] = "false" });

        var run = await pipeline.RunAsync(Pictures);

        var describe = run.Stage(PipelineStageNames.Describe);
        Assert.Equal(StageOutcome.Skipped, describe.Outcome);
        Assert.Contains("not configured", describe.Reason, StringComparison.Ordinal);
        Assert.Equal(6, run.Result.Pictures.Count);
        Assert.All(run.Result.Pictures, p => Assert.Null(p.Description));
    }

    [Fact]
    public async Task A_working_endpoint_describes_every_picture()
    {
        await using var vision = await FakeVision.StartAsync();
        using var pipeline = new StagePipeline(Settings(vision.Url));

        var run = await pipeline.RunAsync(Pictures);

        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Describe).Outcome);
        Assert.Equal(6, run.Result.Pictures.Count);
        Assert.All(run.Result.Pictures, p => Assert.Equal("A small test picture.", p.Description));
        Assert.Contains("![A small test picture.](", run.Markdown, StringComparison.Ordinal);
        Assert.Equal(("test-vision-model", "Bearer sk-test-secret", "data:image/png;base64,"), vision.LastRequest);
    }

    [Fact]
    [Trait("Req", "DEG-3")]
    [Trait("Req", "CB-2")]
    [Trait("Req", "CB-3")]
    [Trait("Req", "CB-4")]
    public async Task An_endpoint_answering_500s_leaves_pictures_undescribed_opens_the_breaker_and_it_closes_after_recovery()
    {
        await using var vision = await FakeVision.StartAsync();
        vision.Mode = FakeVision.Behaviour.ServerError;
        using var pipeline = new StagePipeline(Settings(vision.Url));
        using var gauge = new BreakerGauge(pipeline.Services);
        Assert.Equal(0, gauge.Read(VisionClient.Name));

        var failing = await pipeline.RunAsync(Pictures);

        var describe = failing.Stage(PipelineStageNames.Describe);
        Assert.Equal(StageOutcome.Degraded, describe.Outcome);
        Assert.Contains("6 of 6 pictures stay undescribed", describe.Reason, StringComparison.Ordinal);
        Assert.Contains("500", describe.Reason, StringComparison.Ordinal);
        Assert.Contains("circuit breaker is open", describe.Reason, StringComparison.Ordinal);
        Assert.All(failing.Result.Pictures, p => Assert.Null(p.Description));
        Assert.Equal(2, gauge.Read(VisionClient.Name));
        // Fail fast while open: the pictures after the breaker opened were never sent.
        Assert.True(vision.Requests < 6 * 2, $"{vision.Requests} requests");

        vision.Mode = FakeVision.Behaviour.Answer;
        await Eventually.UntilAsync(() => gauge.Read(VisionClient.Name) == 1, TimeSpan.FromSeconds(10), "the breaker lets a probe through (half-open)");
        var recovered = await pipeline.RunAsync(Pictures);

        Assert.Equal(StageOutcome.Ok, recovered.Stage(PipelineStageNames.Describe).Outcome);
        Assert.All(recovered.Result.Pictures, p => Assert.Equal("A small test picture.", p.Description));
        Assert.Equal(0, gauge.Read(VisionClient.Name));
    }

    [Fact]
    [Trait("Req", "DEG-3")]
    [Trait("Req", "TMO-6")]
    public async Task An_endpoint_slower_than_its_timeout_leaves_pictures_undescribed_and_the_document_completes()
    {
        await using var vision = await FakeVision.StartAsync();
        vision.Mode = FakeVision.Behaviour.Slow;
        using var pipeline = new StagePipeline(Settings(vision.Url));

        var run = await pipeline.RunAsync(Pictures);

        var describe = run.Stage(PipelineStageNames.Describe);
        Assert.Equal(StageOutcome.Degraded, describe.Outcome);
        Assert.Contains("did not answer within its timeout", describe.Reason, StringComparison.Ordinal);
        Assert.All(run.Result.Pictures, p => Assert.Null(p.Description));
    }

    [Fact]
    [Trait("Req", "DEG-3")]
    public async Task An_endpoint_that_is_down_leaves_pictures_undescribed_and_the_document_completes()
    {
        using var pipeline = new StagePipeline(Settings($"http://127.0.0.1:{FreePort.Next()}"));

        var run = await pipeline.RunAsync(Pictures);

        var describe = run.Stage(PipelineStageNames.Describe);
        Assert.Equal(StageOutcome.Degraded, describe.Outcome);
        Assert.Contains("stay undescribed", describe.Reason, StringComparison.Ordinal);
        Assert.All(run.Result.Pictures, p => Assert.Null(p.Description));
        Assert.Equal(6, run.Result.Pictures.Count);
    }
}
