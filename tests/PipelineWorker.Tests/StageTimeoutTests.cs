using System.Diagnostics;
using Microsoft.Extensions.Options;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Stages;

namespace PipelineWorker.Tests;

/// <summary>
/// Per-stage timeouts (transient: the job is retried), the whole-document budget (the document fails with code
/// <c>timeout</c>), partial output discarded, and options validated at start-up.
/// </summary>
public sealed class StageTimeoutTests : IDisposable
{
    private readonly PipelineHost _host = new();
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("suite-timeout-test-");

    public void Dispose()
    {
        _host.Dispose();
        _work.Delete(recursive: true);
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    [Trait("Req", "RTY-6")]
    public async Task A_stage_that_overruns_its_timeout_is_cancelled_its_partial_output_discarded_and_it_is_transient()
    {
        var stage = new SlowStage("extract", TimeSpan.FromMinutes(5), honourCancellation: true, writePartial: true);
        var pipeline = Pipeline([stage], stageTimeoutSeconds: 1, budgetSeconds: 60);
        var clock = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<TransientStageException>(() => pipeline.RunLocallyAsync(Context(), CancellationToken.None));

        Assert.Equal("extract", failure.Stage);
        Assert.Contains("did not finish within 1 s", failure.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        await Eventually(() => stage.SawCancellation);
        Assert.True(stage.WrotePartial);
        Assert.False(File.Exists(Context().CheckpointPath("extract")), "the partial checkpoint of a cancelled stage is discarded");
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    public async Task A_stage_can_have_its_own_timeout()
    {
        var fast = new SlowStage("validate", TimeSpan.FromSeconds(1.5), honourCancellation: true);
        var slow = new SlowStage("extract", TimeSpan.FromSeconds(1.5), honourCancellation: true);
        var options = new WorkerOptions { StageTimeoutSeconds = 60, DocumentBudgetSeconds = 600 };
        options.StageTimeouts["extract"] = 1;
        var pipeline = new DocumentPipeline([fast, slow], Options.Create(options), _host.Get<WorkerMetrics>());

        var failure = await Assert.ThrowsAsync<TransientStageException>(() => pipeline.RunLocallyAsync(Context(), CancellationToken.None));

        Assert.True(fast.Completed, "validate ran under the default 60 s");
        Assert.Equal("extract", failure.Stage);
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    public async Task A_stage_stuck_in_code_that_ignores_cancellation_still_releases_the_job_at_its_timeout()
    {
        var stage = new SlowStage("extract", TimeSpan.FromSeconds(8), honourCancellation: false);
        var pipeline = Pipeline([stage], stageTimeoutSeconds: 1, budgetSeconds: 60);
        var clock = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<TransientStageException>(() => pipeline.RunLocallyAsync(Context(), CancellationToken.None));

        Assert.Equal("extract", failure.Stage);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"released after {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    public async Task The_document_budget_bounds_all_stages_together()
    {
        // A quick first stage, then one that would run far past the 3 s budget but well within its own 60 s
        // timeout: only the budget can stop it (no race between timers on a loaded machine).
        var first = new SlowStage("validate", TimeSpan.FromSeconds(0.5), honourCancellation: true);
        var second = new SlowStage("extract", TimeSpan.FromMinutes(5), honourCancellation: true);
        var pipeline = Pipeline([first, second], stageTimeoutSeconds: 60, budgetSeconds: 3);

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => pipeline.RunLocallyAsync(Context(), CancellationToken.None));

        Assert.Equal("timeout", failure.Code);
        Assert.Equal("extract", failure.Stage);
        Assert.True(first.Completed);
    }

    [Fact]
    public async Task Shutdown_cancels_the_running_stage_without_turning_it_into_a_failure()
    {
        var stage = new SlowStage("extract", TimeSpan.FromMinutes(5), honourCancellation: true);
        var pipeline = Pipeline([stage], stageTimeoutSeconds: 60, budgetSeconds: 600);
        using var stopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.RunLocallyAsync(Context(), stopping.Token));
    }

    [Fact]
    public void Invalid_worker_options_are_refused_at_start_up_with_the_reason()
    {
        using var host = new PipelineHost(new Dictionary<string, string?>
        {
            ["Worker:PollMinDelayMs"] = "500",
            ["Worker:PollMaxDelayMs"] = "100",
            ["Worker:ConsumerName"] = "bad/name",
        });

        var error = Assert.Throws<OptionsValidationException>(() => host.Get<IOptions<WorkerOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("PollMaxDelayMs", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ConsumerName", StringComparison.Ordinal));
    }

    [Fact]
    public void Consumer_name_defaults_to_host_and_process()
    {
        var options = _host.Get<IOptions<WorkerOptions>>().Value;

        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", options.ConsumerName);
        Assert.Equal(60, options.VisibilityTimeoutSeconds);
        Assert.Equal(60, options.StageTimeoutSeconds);
        Assert.Equal(600, options.DocumentBudgetSeconds);
        Assert.Equal(5, options.MaxDeliveries);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HeartbeatInterval);
        Assert.Equal(Path.Combine(Path.GetTempPath(), "suite-worker"), options.WorkDirectory);
    }

    private StageContext Context() => new("doc-timeout", "slow.pdf", _work.FullName);

    private DocumentPipeline Pipeline(IEnumerable<IPipelineStage> stages, int stageTimeoutSeconds, int budgetSeconds) => new(
        stages,
        Options.Create(new WorkerOptions { StageTimeoutSeconds = stageTimeoutSeconds, DocumentBudgetSeconds = budgetSeconds }),
        _host.Get<WorkerMetrics>());

    private static async Task Eventually(Func<bool> condition) =>
        await Suite.Testing.Eventually.UntilAsync(condition, TimeSpan.FromSeconds(5), "condition");

    /// <summary>A stage that takes its time, writing its checkpoint only when it finishes.</summary>
    private sealed class SlowStage(string name, TimeSpan duration, bool honourCancellation, bool writePartial = false) : IPipelineStage
    {
        public string Name => name;

        public volatile bool SawCancellation;
        public volatile bool Completed;
        public volatile bool WrotePartial;

        public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
        {
            if (writePartial)
            {
                // Half a checkpoint, as a stage writing page by page leaves it when it is stopped.
                await File.WriteAllTextAsync(context.CheckpointPath(Name), "[{\"n\":1,\"words\":[", CancellationToken.None);
                WrotePartial = true;
            }

            if (honourCancellation)
            {
                try
                {
                    await Task.Delay(duration, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    SawCancellation = true;
                    throw;
                }
            }
            else
            {
                Thread.Sleep(duration);
            }

            await File.WriteAllTextAsync(context.CheckpointPath(Name), "{}", CancellationToken.None);
            Completed = true;
            return StageResult.Completed;
        }

        public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
