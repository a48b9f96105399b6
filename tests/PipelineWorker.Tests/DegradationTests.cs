using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.ServiceDefaults.Resilience;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// Optional dependencies failing for real: engines missing, hanging (their process tree killed on timeout or
/// cancel), crashing (their breaker opens), stages switched off. Documents complete and the result says why.
/// </summary>
public sealed class DegradationTests
{
    private static readonly Dictionary<string, string?> MissingEngines = new()
    {
        ["Pipeline:Engines:PdftoppmPath"] = "/nonexistent/bin/pdftoppm",
        ["Pipeline:Engines:TesseractPath"] = "/nonexistent/bin/tesseract",
    };

    [Fact]
    [Trait("Req", "DEG-5")]
    [Trait("Req", "DEG-8")]
    [Trait("Req", "SU-4")]
    public async Task Without_pdftoppm_and_tesseract_a_text_pdf_completes_without_page_images_and_says_why()
    {
        using var pipeline = new StagePipeline(MissingEngines);

        var run = await pipeline.RunAsync("sf__pdflatex-4-pages.pdf");

        var render = run.Stage(PipelineStageNames.Render);
        Assert.Equal(StageOutcome.Degraded, render.Outcome);
        Assert.Contains("pdftoppm is not available", render.Reason, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/bin/pdftoppm does not exist", render.Reason, StringComparison.Ordinal);
        Assert.All(run.Result.Pages, p => Assert.Null(p.Image));
        // Nothing needed OCR, so OCR's absence costs nothing here; the text is all there.
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Ocr).Outcome);
        Assert.True(PdfText.Recall(await PdfText.ExtractAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")), run.Markdown) >= 0.95);

        // Readiness reports the missing engines as Degraded (200), never as unready.
        var health = await pipeline.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "engines");
        var engines = health.Entries["engines"];
        Assert.Equal(HealthStatus.Degraded, engines.Status);
        Assert.Contains("pdftoppm is not available", engines.Description, StringComparison.Ordinal);
        Assert.Contains("tesseract is not available", engines.Description, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "DEG-4")]
    [Trait("Req", "DEG-8")]
    public async Task Without_tesseract_a_scan_completes_as_a_picture_and_the_result_says_ocr_was_degraded()
    {
        using var pipeline = new StagePipeline(MissingEngines);

        var run = await pipeline.RunAsync("ocrmypdf__c02-22.pdf");

        var ocr = run.Stage(PipelineStageNames.Ocr);
        Assert.Equal(StageOutcome.Degraded, ocr.Outcome);
        Assert.Contains("tesseract is not available", ocr.Reason, StringComparison.Ordinal);
        Assert.Contains("text layer only", ocr.Reason, StringComparison.Ordinal);
        Assert.Equal("none", run.Result.Pages[0].TextSource);
        // The scan is still there for a person to see: its JPEG is kept as the page's picture.
        var picture = Assert.Single(run.Result.Pictures);
        Assert.Equal("image/jpeg", picture.ContentType);
    }

    [Fact]
    [Trait("Req", "DEG-6")]
    [Trait("Req", "DEG-8")]
    public async Task Optional_stages_switched_off_by_configuration_are_skipped_with_the_reason_and_the_text_is_complete()
    {
        using var pipeline = new StagePipeline(new Dictionary<string, string?>
        {
            ["Pipeline:Render:Enabled"] = "false",
            ["Pipeline:Ocr:Enabled"] = "false",
            ["Pipeline:Layout:Enabled"] = "false",
            ["Pipeline:ReadingOrder:Enabled"] = "false",
            ["Pipeline:Tables:Enabled"] = "false",
            ["Pipeline:Pictures:Enabled"] = "false",
            ["Pipeline:Describe:Enabled"] = "false",
        });

        var run = await pipeline.RunAsync("sf__multicolumn.pdf");

        foreach (var stage in new[] { "render", "ocr", "layout", "reading-order", "tables", "pictures", "describe" })
        {
            var outcome = run.Stage(stage);
            Assert.Equal(StageOutcome.Skipped, outcome.Outcome);
            Assert.Contains("switched off by configuration", outcome.Reason, StringComparison.Ordinal);
        }

        Assert.Empty(run.Result.Tables);
        Assert.All(run.Result.Pages.SelectMany(p => p.Blocks), b => Assert.Equal(BlockRoles.Paragraph, b.Role));
        Assert.True(PdfText.Recall(await PdfText.ExtractAsync(RepoPaths.CorpusFile("sf__multicolumn.pdf")), run.Markdown) >= 0.95);
    }

    [Fact]
    [Trait("Req", "TMO-4")]
    [Trait("Req", "DEG-5")]
    public async Task A_renderer_that_hangs_is_killed_with_its_child_at_the_page_timeout_and_the_document_completes()
    {
        using var scripts = new EngineScripts();
        using var pipeline = new StagePipeline(new Dictionary<string, string?>
        {
            ["Pipeline:Engines:PdftoppmPath"] = scripts.HangingRenderer(),
            ["Pipeline:Render:PageTimeoutSeconds"] = "1",
            ["Pipeline:Ocr:Enabled"] = "false",
        });
        var clock = Stopwatch.StartNew();

        var run = await pipeline.RunAsync("sf__minimal-document.pdf");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:F1} s");
        var render = run.Stage(PipelineStageNames.Render);
        Assert.Equal(StageOutcome.Degraded, render.Outcome);
        Assert.Contains("did not finish within 1 s and was killed with its process group", render.Reason, StringComparison.Ordinal);
        Assert.Empty(scripts.Leftovers());
        Assert.Contains("Lorem ipsum", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "TMO-4")]
    [Trait("Req", "TMO-3")]
    public async Task At_the_stage_timeout_a_hanging_renderer_is_cancelled_its_process_tree_killed_and_the_stage_degrades()
    {
        using var scripts = new EngineScripts();
        using var pipeline = new StagePipeline(new Dictionary<string, string?>
        {
            ["Pipeline:Engines:PdftoppmPath"] = scripts.HangingRenderer(),
            ["Pipeline:Render:PageTimeoutSeconds"] = "600",
            ["Pipeline:Render:TimeoutSeconds"] = "2",
            ["Pipeline:Ocr:Enabled"] = "false",
        });

        var run = await pipeline.RunAsync("sf__pdflatex-4-pages.pdf");

        var render = run.Stage(PipelineStageNames.Render);
        Assert.Equal(StageOutcome.Degraded, render.Outcome);
        Assert.Contains("stopped at the stage timeout of 2 s; 4 pages were not rendered", render.Reason, StringComparison.Ordinal);
        Assert.Empty(scripts.Leftovers());
    }

    [Fact]
    [Trait("Req", "TMO-4")]
    public async Task The_process_runner_kills_the_whole_group_on_timeout_and_on_cancel_and_reports_stderr()
    {
        using var scripts = new EngineScripts();
        var runner = new ProcessRunner(NullLogger<ProcessRunner>.Instance);
        var script = scripts.HangingRenderer();

        var timeout = await Assert.ThrowsAsync<EngineException>(() => runner.RunAsync(new ProcessSpec(script, ["page"]), TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(EngineFailureKind.Timeout, timeout.Kind);
        Assert.Empty(scripts.Leftovers());

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(new ProcessSpec(script, ["page"]), TimeSpan.FromMinutes(5), cancel.Token));
        Assert.Empty(scripts.Leftovers());

        var crash = await runner.RunAsync(new ProcessSpec(scripts.CrashingOcr(), ["image.png", "stdout"]), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(139, crash.ExitCode);
        Assert.Contains("simulated engine crash", crash.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "CB-2")]
    [Trait("Req", "DEG-4")]
    public async Task A_crashing_ocr_engine_opens_its_breaker_so_later_pages_fail_fast_and_the_document_completes()
    {
        using var scripts = new EngineScripts();
        using var pipeline = new StagePipeline(new Dictionary<string, string?>
        {
            ["Pipeline:Engines:TesseractPath"] = scripts.CrashingOcr(),
            ["Pipeline:Engines:BreakerMinimumThroughput"] = "3",
            ["Pipeline:Engines:BreakerBreakSeconds"] = "60",
            ["Pipeline:Ocr:MaxParallelism"] = "1",
            ["Pipeline:Ocr:Dpi"] = "72",
            ["Pipeline:Ocr:MaxPages"] = "8",
            ["Pipeline:Render:Enabled"] = "false",
        });
        using var gauge = new BreakerGauge(pipeline.Services);

        // 30 scanned pages (encrypted with an empty user password): OCR is tried on 8 of them.
        var run = await pipeline.RunAsync("qpdf__leading-junk.pdf");

        var ocr = run.Stage(PipelineStageNames.Ocr);
        Assert.Equal(StageOutcome.Degraded, ocr.Outcome);
        Assert.Contains("simulated engine crash", ocr.Reason, StringComparison.Ordinal);
        Assert.Contains("OCR is limited to 8 pages", ocr.Reason, StringComparison.Ordinal);
        Assert.Equal(BreakerState.Open, pipeline.Services.GetRequiredService<CircuitBreakerStates>().StateOf(EngineBreakers.Ocr));
        Assert.Equal(2, gauge.Read(EngineBreakers.Ocr));
    }
}

/// <summary>Reads the breaker gauge of one host's meter (suite.circuit_breaker.state, meter Suite.Resilience) through a MeterListener.</summary>
internal sealed class BreakerGauge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, int> _values = new(StringComparer.Ordinal);

    public BreakerGauge(IServiceProvider services)
    {
        // Only this host's meter: every host in the test process has its own meter factory.
        var factory = services.GetRequiredService<IMeterFactory>();
        _ = services.GetRequiredService<CircuitBreakerStates>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == CircuitBreakerStates.GaugeName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "dependency" && tag.Value is string dependency)
                {
                    lock (_values)
                    {
                        _values[dependency] = value;
                    }
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The gauge's current value for a dependency: 0 closed, 1 half-open, 2 open.</summary>
    public int Read(string dependency)
    {
        _listener.RecordObservableInstruments();
        lock (_values)
        {
            return _values.TryGetValue(dependency, out var value) ? value : -1;
        }
    }

    public void Dispose() => _listener.Dispose();
}
