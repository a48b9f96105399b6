using NJsonSchema;
using Suite.Contracts;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Stages;
using Suite.Testing;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;

namespace PipelineWorker.Tests;

/// <summary>
/// Real corpus files damaged so that PdfPig cannot read them (each test first proves it does not) while poppler does:
/// the whole pipeline reads them through poppler's pdftotext, says so per page (<c>extractor: poppler</c>) and in the
/// extract stage's outcome, and a normal PDF is not touched by any of it.
/// </summary>
public sealed class PopplerFallbackTests : IDisposable
{
    private readonly StagePipeline _pipeline = new();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("suite-poppler-fallback-");

    public void Dispose()
    {
        _pipeline.Dispose();
        _folder.Delete(recursive: true);
    }

    public static TheoryData<string, string, int> Unreadable => new()
    {
        // PdfPig refuses to open it at all (validate's corrupt_structure before): 15 pages, every one from poppler.
        { "pdfplumber__federal-register-2020-17221.pdf", "newest-root-missing", 15 },
        // PdfPig opens it but finds no page (validate's no_pages before): poppler's page count, poppler's text.
        { "sf__002-trivial-libre-office-writer.pdf", "page-type-misspelt", 1 },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    [Trait("Req", "IN-3")]
    [Trait("Req", "DEG-8")]
    public async Task A_pdf_pdfpig_cannot_read_but_poppler_can_is_processed_with_poppler_text_on_every_page(string file, string damage, int pages)
    {
        var (bytes, path) = Damage(file, damage);
        Assert.Null(ReadablePdfPigText(path));
        var reference = await PdfText.ExtractAsync(path);
        Assert.True(PdfText.Words(reference).Count > 50, "pdftotext reads the damaged file");

        var run = await _pipeline.RunAsync(bytes, file);

        Assert.Equal(pages, run.Result.PageCount);
        Assert.All(run.Result.Pages, p => Assert.Equal(PageExtractors.Poppler, p.Extractor));
        Assert.All(run.Result.Pages, p => Assert.Equal(LayoutStage.TextLayer, p.TextSource));
        var recall = PdfText.Recall(reference, run.Markdown);
        Assert.True(recall >= 0.9, $"Markdown word recall vs pdftotext is {recall:P1}");
        Assert.True(PdfText.Recall(reference, run.Text) >= 0.9, "plain text recall");
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Validate).Outcome);
        var extract = run.Stage(PipelineStageNames.Extract);
        Assert.Equal(StageOutcome.Degraded, extract.Outcome);
        Assert.Contains($"{pages} of {pages} pages were read by poppler's pdftotext instead of PdfPig", extract.Reason, StringComparison.Ordinal);
        // Blocks sit on their pages: poppler's boxes were brought into the result's coordinates.
        Assert.All(run.Result.Pages, p => Assert.All(p.Blocks, b => Assert.True(
            b.BoundingBox.Left >= -1 && b.BoundingBox.Right <= p.Width + 1 && b.BoundingBox.Bottom >= -1 && b.BoundingBox.Top <= p.Height + 1,
            $"page {p.PageNumber} {p.Width}x{p.Height}: {b.BoundingBox}")));
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "result.schema.json"));
        Assert.Empty(schema.Validate(run.Submission.Json));
    }

    [Fact]
    [Trait("Req", "IN-3")]
    [Trait("Req", "DEG-8")]
    public async Task A_page_where_pdfpig_finds_no_words_but_poppler_does_is_read_by_poppler()
    {
        const string file = "sf__google-doc-document.pdf";
        var (bytes, path) = Damage(file, "cid-font-subtype-unknown");
        // PdfPig opens it and reads the page, but without the CID fonts only four emoji flags are left: no word.
        using (var document = PdfOpening.Open(path))
        {
            var words = document.GetPage(1).GetWords(NearestNeighbourWordExtractor.Instance).Select(w => w.Text).ToList();
            Assert.DoesNotContain(words, w => w.Any(char.IsLetterOrDigit));
        }

        var reference = await PdfText.ExtractAsync(path);

        var run = await _pipeline.RunAsync(bytes, file);

        var page = Assert.Single(run.Result.Pages);
        Assert.Equal(PageExtractors.Poppler, page.Extractor);
        Assert.True(PdfText.Recall(reference, run.Markdown) >= 0.9, "Markdown word recall vs pdftotext");
        Assert.Contains("Beautiful is better than ugly", run.Text, StringComparison.Ordinal);
        Assert.Contains("PdfPig finds no text on the page", run.Stage(PipelineStageNames.Extract).Reason, StringComparison.Ordinal);
        // PdfPig's page size stays: only the words came from poppler.
        Assert.Equal((596.0, 842.0), (page.Width, page.Height));
    }

    [Fact]
    [Trait("Req", "DEG-8")]
    public async Task A_normal_pdf_is_read_by_pdfpig_on_every_page_and_its_result_is_the_same_as_without_the_fallback()
    {
        var settings = new Dictionary<string, string?> { ["Pipeline:Render:Enabled"] = "false" };
        using var withFallback = new StagePipeline(settings);
        using var without = new StagePipeline(new Dictionary<string, string?>(settings) { ["Pipeline:TextFallback:Enabled"] = "false" });

        var run = await withFallback.RunAsync("sf__multicolumn.pdf");
        var reference = await without.RunAsync("sf__multicolumn.pdf");

        Assert.All(run.Result.Pages, p => Assert.Equal(PageExtractors.Pdfpig, p.Extractor));
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Extract).Outcome);
        Assert.Equal(reference.Markdown, run.Markdown);
        Assert.Equal(reference.Text, run.Text);
        Assert.Equal(
            System.Text.Json.JsonSerializer.Serialize(reference.Result.Pages, DocumentResult.JsonOptions),
            System.Text.Json.JsonSerializer.Serialize(run.Result.Pages, DocumentResult.JsonOptions));
    }

    [Fact]
    [Trait("Req", "DEG-8")]
    public async Task A_page_without_a_text_layer_asks_poppler_finds_nothing_either_and_stays_pdfpigs()
    {
        // Six image-only pages: poppler is asked for each and finds no text either; OCR is not what this is about.
        using var pipeline = new StagePipeline(new Dictionary<string, string?> { ["Pipeline:Render:Enabled"] = "false", ["Pipeline:Ocr:Enabled"] = "false" });

        var run = await pipeline.RunAsync("sf__imagemagick-images.pdf");

        Assert.All(run.Result.Pages, p => Assert.Equal(PageExtractors.Pdfpig, p.Extractor));
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Extract).Outcome);
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task A_resume_after_extract_uses_the_poppler_words_of_the_checkpoint_without_asking_poppler_again()
    {
        const string file = "pdfplumber__federal-register-2020-17221.pdf";
        var (bytes, path) = Damage(file, "newest-root-missing");
        var first = await _pipeline.RunAsync(bytes, file);
        var context = first.Context;
        File.Delete(AssembleStage.SubmissionPath(context));

        // The next worker has no poppler text tools at all: only the checkpoint can give it these words.
        using var resumed = new StagePipeline(new Dictionary<string, string?>
        {
            ["Pipeline:Engines:PdftotextPath"] = "/nonexistent/bin/pdftotext",
            ["Pipeline:Engines:PdfinfoPath"] = "/nonexistent/bin/pdfinfo",
        });
        foreach (var stage in resumed.Pipeline.Stages)
        {
            if (stage.Name is PipelineStageNames.Validate or PipelineStageNames.Extract)
            {
                Assert.True(await stage.IsCheckpointUsableAsync(context, CancellationToken.None), stage.Name);
                continue;
            }

            await resumed.Pipeline.RunStageAsync(stage, context, CancellationToken.None, CancellationToken.None);
        }

        var result = new StagePipeline.Run(context, await AssembleStage.ReadSubmissionAsync(context, CancellationToken.None));
        Assert.All(result.Result.Pages, p => Assert.Equal(PageExtractors.Poppler, p.Extractor));
        Assert.True(PdfText.Recall(await PdfText.ExtractAsync(path), result.Markdown) >= 0.9);
        Assert.Equal(first.Markdown, result.Markdown);
    }

    [Fact]
    [Trait("Req", "IN-5")]
    public async Task The_page_limit_holds_for_a_page_count_that_comes_from_poppler()
    {
        using var pipeline = new StagePipeline(new Dictionary<string, string?> { ["Worker:Validate:MaxPages"] = "10" });
        var (bytes, _) = Damage("pdfplumber__federal-register-2020-17221.pdf", "newest-root-missing");

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => pipeline.RunAsync(bytes, "damaged.pdf"));

        Assert.Equal(FailureCodes.TooManyPages, failure.Code);
        Assert.Contains("15 pages", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "IN-3")]
    public async Task The_fallback_does_not_weaken_the_magic_byte_check_nor_accept_what_poppler_cannot_read()
    {
        // poppler would read a PDF whose header is mangled; the magic-byte check refuses it before anyone is asked.
        var bytes = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        "%XDF-"u8.CopyTo(bytes);
        var notPdf = await Assert.ThrowsAsync<PipelineFailure>(() => _pipeline.RunAsync(bytes, "header.pdf"));
        Assert.Equal(FailureCodes.UnsupportedFormat, notPdf.Code);

        // Garbage after a header: PdfPig and poppler both fail, and the refusal says so.
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        "%PDF-1.7\n"u8.CopyTo(garbage);
        var corrupt = await Assert.ThrowsAsync<PipelineFailure>(() => _pipeline.RunAsync(garbage, "garbage.pdf"));
        Assert.Equal(FailureCodes.CorruptStructure, corrupt.Code);
        Assert.Contains("poppler: pdfinfo cannot read it either", corrupt.Message, StringComparison.Ordinal);
    }

    /// <summary>The damaged file's bytes, also written to a file for the reference tools.</summary>
    private (byte[] Bytes, string Path) Damage(string file, string damage)
    {
        var bytes = damage switch
        {
            "newest-root-missing" => DamagedPdfs.NewestRootMissing(file),
            "page-type-misspelt" => DamagedPdfs.PageTypeMisspelt(file),
            "cid-font-subtype-unknown" => DamagedPdfs.CidFontSubtypeUnknown(file),
            _ => throw new ArgumentOutOfRangeException(nameof(damage), damage, null),
        };
        var path = Path.Combine(_folder.FullName, damage + "-" + file);
        File.WriteAllBytes(path, bytes);
        return (bytes, path);
    }

    /// <summary>The letters and digits PdfPig reads from the whole file, as extract would get them; null when it reads none.</summary>
    private static string? ReadablePdfPigText(string path)
    {
        UglyToad.PdfPig.PdfDocument document;
        try
        {
            document = PdfOpening.Open(path);
        }
        catch (PipelineFailure)
        {
            return null;
        }

        using (document)
        {
            var text = new System.Text.StringBuilder();
            for (var n = 1; n <= document.NumberOfPages; n++)
            {
                text.AppendJoin(' ', document.GetPage(n).GetWords(NearestNeighbourWordExtractor.Instance).Select(w => w.Text));
            }

            return text.ToString().Any(char.IsLetterOrDigit) ? text.ToString() : null;
        }
    }
}
