using StackExchange.Redis;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// The per-request pipeline options (Req FMT-4) in the worker's real stages, on real poppler and tesseract: each option
/// changes what its stage does, the skips say why, and the result echoes the options it was made with.
/// </summary>
public sealed class RequestOptionTests : IDisposable
{
    private static readonly string[] German = ["Größe und Straße", "Fußgänger müssen schön grüßen", "Äpfel, Öfen und Übermaß", "Die Grüße der Bürger"];

    /// <summary>The German words with umlauts or ß that a reading of <see cref="German"/> should have.</summary>
    private static readonly string[] UmlautWords = ["Größe", "Straße", "Fußgänger", "müssen", "schön", "grüßen", "Äpfel", "Öfen", "Übermaß", "Grüße", "Bürger"];

    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Ocr_force_replaces_a_garbage_text_layer_with_what_the_page_shows_and_auto_keeps_it()
    {
        var pdf = await ScannedPdfs.ScanAsync(
            ["Quarterly revenue increased sharply", "Invoices were paid on time"],
            hidden: ["zqxv blorft wuggle prandle", "mimsy borogove outgrabe"]);

        var auto = await _pipeline.RunAsync(pdf, "garbage-layer.pdf");
        Assert.Equal("text_layer", auto.Result.Pages[0].TextSource);
        Assert.Contains("blorft", auto.Text, StringComparison.Ordinal);

        var forced = await _pipeline.RunAsync(pdf, "garbage-layer.pdf", options: new DocumentOptions { Ocr = OcrMode.Force });
        var page = Assert.Single(forced.Result.Pages);
        Assert.Equal("ocr", page.TextSource);
        Assert.Equal(PageExtractors.Ocr, page.Extractor);
        Assert.DoesNotContain("blorft", forced.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("borogove", forced.Text, StringComparison.Ordinal);
        foreach (var word in new[] { "Quarterly", "revenue", "Invoices", "paid" })
        {
            Assert.Contains(word, forced.Text, StringComparison.Ordinal);
        }

        Assert.Equal(OcrMode.Force, forced.Result.Options!.Ocr);
        Assert.Equal(StageOutcome.Ok, forced.Stage(PipelineStageNames.Ocr).Outcome);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Ocr_languages_deu_reads_the_umlauts_of_a_scanned_German_page_that_eng_gets_wrong()
    {
        var pdf = await ScannedPdfs.ScanAsync(German);

        var english = await _pipeline.RunAsync(pdf, "deutsch.pdf");
        var german = await _pipeline.RunAsync(pdf, "deutsch.pdf", options: new DocumentOptions { OcrLanguages = "deu" });

        var englishWords = PdfText.Words(english.Text).ToHashSet(StringComparer.Ordinal);
        var germanWords = PdfText.Words(german.Text).ToHashSet(StringComparer.Ordinal);
        // PdfText.Words lower-cases.
        var readByEnglish = UmlautWords.Select(w => w.ToLowerInvariant()).Where(englishWords.Contains).ToList();
        var readByGerman = UmlautWords.Select(w => w.ToLowerInvariant()).Where(germanWords.Contains).ToList();
        Assert.True(readByGerman.Count >= UmlautWords.Length - 2, $"deu read {string.Join(", ", readByGerman)} of them: {german.Text}");
        Assert.True(readByEnglish.Count < readByGerman.Count, $"eng read {string.Join(", ", readByEnglish)}: {english.Text}");
        Assert.Contains("ß", german.Text, StringComparison.Ordinal);
        Assert.Equal("deu", german.Result.Options!.OcrLanguages);
        // Without the option, the result names the language the workers used.
        Assert.Equal("eng", english.Result.Options!.OcrLanguages);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Ocr_off_skips_ocr_with_the_reason_and_a_scan_keeps_no_text()
    {
        var pdf = await ScannedPdfs.ScanAsync(["Nothing here is read"]);

        var run = await _pipeline.RunAsync(pdf, "scan.pdf", options: new DocumentOptions { Ocr = OcrMode.Off });

        var ocr = run.Stage(PipelineStageNames.Ocr);
        Assert.Equal(StageOutcome.Skipped, ocr.Outcome);
        Assert.Contains("switched off by the request (ocr=off)", ocr.Reason, StringComparison.Ordinal);
        Assert.NotEqual("ocr", run.Result.Pages[0].TextSource);
        Assert.DoesNotContain("Nothing", run.Text, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Page_range_2_3_gives_exactly_those_pages_and_renders_no_other()
    {
        var run = await _pipeline.RunAsync(GeneratedReport.Build(5), "five.pdf", options: new DocumentOptions { PageRange = "2-3" });

        Assert.Equal([2, 3], run.Result.Pages.Select(p => p.PageNumber));
        Assert.Equal(2, run.Result.PageCount);
        Assert.Contains("Section 2: Benchmark page", run.Text, StringComparison.Ordinal);
        Assert.Contains("Section 3: Benchmark page", run.Text, StringComparison.Ordinal);
        foreach (var other in new[] { 1, 4, 5 })
        {
            Assert.DoesNotContain($"Section {other}:", run.Text, StringComparison.Ordinal);
            Assert.DoesNotContain($"<!-- page {other} -->", run.Markdown, StringComparison.Ordinal);
            Assert.False(File.Exists(run.ArtifactPath($"pages/{other}.png")), $"page {other} was rendered");
        }

        Assert.All(run.Result.ReadingOrder, id => Assert.True(id.StartsWith("p2-", StringComparison.Ordinal) || id.StartsWith("p3-", StringComparison.Ordinal), id));
        Assert.Equal("2-3", run.Result.Options!.PageRange);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "IN-5")]
    public async Task A_page_range_beyond_the_last_page_fails_the_document_with_page_range_empty()
    {
        var failure = await Assert.ThrowsAsync<PipelineFailure>(() =>
            _pipeline.RunAsync(GeneratedReport.Build(2), "two.pdf", options: new DocumentOptions { PageRange = "7-" }));

        Assert.Equal(FailureCodes.PageRangeEmpty, failure.Code);
        Assert.Equal(PipelineStageNames.Validate, failure.Stage);
        Assert.Contains("2 pages", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    public async Task Images_embedded_gives_pictures_as_data_uris_in_the_json_markdown_and_html()
    {
        var run = await _pipeline.RunAsync("sf__pdflatex-image.pdf", new DocumentOptions { Images = ImageMode.Embedded });

        var picture = Assert.Single(run.Result.Pictures);
        Assert.StartsWith("data:image/jpeg;base64,", picture.Url, StringComparison.Ordinal);
        var bytes = Convert.FromBase64String(picture.Url!["data:image/jpeg;base64,".Length..]);
        Assert.Equal(await File.ReadAllBytesAsync(run.ArtifactPath("pictures/p1-pic1.jpg")), bytes);
        Assert.Contains($"]({picture.Url})", run.Markdown, StringComparison.Ordinal);
        Assert.Contains($"src=\"{picture.Url}\"", run.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("/pictures/", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "DEG-8")]
    public async Task Images_none_skips_pictures_and_describe_pictures_off_skips_describe_each_with_the_reason()
    {
        var run = await _pipeline.RunAsync("sf__pdflatex-image.pdf", new DocumentOptions { Images = ImageMode.None, DescribePictures = Switch.Off });

        Assert.Empty(run.Result.Pictures);
        Assert.DoesNotContain(run.Result.Pages.SelectMany(p => p.Blocks), b => b.Role == BlockRoles.Picture);
        Assert.DoesNotContain("![", run.Markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", run.Html, StringComparison.Ordinal);
        Assert.Equal(StageOutcome.Skipped, run.Stage(PipelineStageNames.Pictures).Outcome);
        Assert.Contains("switched off by the request (images=none)", run.Stage(PipelineStageNames.Pictures).Reason, StringComparison.Ordinal);
        Assert.Equal(StageOutcome.Skipped, run.Stage(PipelineStageNames.Describe).Outcome);
        Assert.Contains("switched off by the request (describePictures=off)", run.Stage(PipelineStageNames.Describe).Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "DEG-8")]
    public async Task Tables_off_skips_the_tables_stage_with_the_reason_and_leaves_the_tables_as_text()
    {
        const string file = "pdfplumber__nics-background-checks-2015-11.pdf";
        var run = await _pipeline.RunAsync(file, new DocumentOptions { Tables = Switch.Off });

        Assert.Empty(run.Result.Tables);
        Assert.DoesNotContain(run.Result.Pages.SelectMany(p => p.Blocks), b => b.Role == BlockRoles.Table);
        var tables = run.Stage(PipelineStageNames.Tables);
        Assert.Equal(StageOutcome.Skipped, tables.Outcome);
        Assert.Equal("switched off by the request (tables=off); tables are left as text", tables.Reason);
        Assert.Contains("Alabama", run.Text, StringComparison.Ordinal);
        Assert.Equal(Switch.Off, run.Result.Options!.Tables);
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "CK-5")]
    public async Task A_worker_process_follows_the_claims_options_and_marks_every_checkpoint_with_their_fingerprint()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        var options = new DocumentOptions { PageRange = "2-3", Tables = Switch.Off };
        ingest.Add("doc-options", "five.pdf", GeneratedReport.Build(5)).Options = options;
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await TestJobs.EnqueueAsync(mux.GetDatabase(), "doc-options");

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-o1");
        await Eventually.UntilAsync(() => ingest.Read("doc-options", d => d.Result is not null), TimeSpan.FromSeconds(90), "the document completes\n" + worker.Output);

        var result = System.Text.Json.JsonSerializer.Deserialize<DocumentResult>(ingest.Document("doc-options").Result!.Json, DocumentResult.JsonOptions)!;
        Assert.Equal([2, 3], result.Pages.Select(p => p.PageNumber));
        Assert.Equal(options with { OcrLanguages = "eng" }, result.Options);
        Assert.Equal(StageOutcome.Skipped, result.Stages.Single(s => s.Name == PipelineStageNames.Tables).Outcome);
        var marks = ingest.Read("doc-options", d => d.CheckpointOptions.ToDictionary());
        Assert.Equal(PipelineStageNames.All.Order(), marks.Keys.Order());
        Assert.All(marks.Values, mark => Assert.Equal(options.Fingerprint(), mark));
    }
}
