using ImageMagick;
using NJsonSchema;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// Every input format through the whole pipeline, locally: fixtures made by real tools (pandoc from one Markdown
/// source, pdftoppm images of a text PDF, Magick.NET for the multi-page TIFF and the WebP; Fixtures/formats/MANIFEST.md)
/// give their text, headings, lists and tables in the result and its renderings.
/// </summary>
public sealed class FormatReaderTests : IDisposable
{
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    internal static string Fixture(string name) => FormatFixtures.Path(name);

    private static string SourceText() => FormatFixtures.SourceText();

    /// <summary>One schema for every format: the published JSON Schema holds for each result.</summary>
    private static async Task AssertValidResultAsync(StagePipeline.Run run)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "result.schema.json"));
        var errors = schema.Validate(run.Submission.Json);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
        Assert.Equal(run.Result.Pages.SelectMany(p => p.Blocks).Select(b => b.Id), run.Result.ReadingOrder);
    }

    private static void AssertRecall(string reference, string candidate, double minimum = 0.95)
    {
        var recall = PdfText.Recall(reference, candidate);
        Assert.True(recall >= minimum, $"word recall {recall:P1}:\n{candidate}");
    }

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    [Trait("Req", "DEG-8")]
    [InlineData("source.docx", DocumentFormats.Docx)]
    [InlineData("source.pptx", DocumentFormats.Pptx)]
    [InlineData("source.html", DocumentFormats.Html)]
    [InlineData("source.md", DocumentFormats.Markdown)]
    public async Task A_structured_document_gives_its_text_headings_lists_and_table(string file, string format)
    {
        // The name says nothing: the content decides.
        var run = await _pipeline.RunAsync(await File.ReadAllBytesAsync(Fixture(file)), "upload.bin");
        var result = run.Result;
        var blocks = result.Pages.SelectMany(p => p.Blocks).ToList();

        Assert.Equal(format, result.Format);
        Assert.Equal(DocumentResult.CurrentSchemaVersion, result.SchemaVersion);
        await AssertValidResultAsync(run);
        AssertRecall(SourceText(), run.Markdown);
        AssertRecall(SourceText(), run.Text);

        Assert.Contains(blocks, b => b.Role is BlockRoles.Title && b.Text == "Harbour Inspection Report" && b.Level == 0);
        if (format == DocumentFormats.Pptx)
        {
            // pandoc makes the first heading the slides' title and writes the lower headings as slide text.
            Assert.Contains(blocks, b => b.Role is BlockRoles.SectionHeader && b.Text == "Harbour Inspection Report" && b.Level == 1);
        }
        else
        {
            Assert.Contains(blocks, b => b.Role is BlockRoles.SectionHeader && b.Text == "Findings" && b.Level == 1);
            Assert.Contains(blocks, b => b.Role is BlockRoles.SectionHeader && b.Text == "Structural items" && b.Level == 2);
            Assert.Contains("\n## Findings\n", run.Markdown, StringComparison.Ordinal);
            Assert.Contains("<h3>Structural items</h3>", run.Html, StringComparison.Ordinal);
        }
        Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Pier foundations show minor erosion" && b.ListDepth == 0);
        Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Eastern pilings need sealing" && b.ListDepth == 1);
        Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Repaint the mooring bollards" && b.ListOrdered == true);

        var table = Assert.Single(result.Tables);
        Assert.Equal("structure", table.Detection);
        Assert.Equal((4, 3), (table.RowCount, table.ColumnCount));
        Assert.Equal("East pier", table.Cells.Single(c => c.Row == 2 && c.Column == 0).Text);
        Assert.Contains("| East pier | 6.2 | fair |", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("<td>East pier</td>", run.Html, StringComparison.Ordinal);

        Assert.All(blocks, b => Assert.NotNull(b.Provenance));
        if (format == DocumentFormats.Pptx)
        {
            Assert.True(result.PageCount >= 4, $"{result.PageCount} slides");
            Assert.All(blocks, b => Assert.Equal(b.PageNumber, b.Provenance!.Slide));
            var note = Assert.Single(blocks, b => b.Role == BlockRoles.Note);
            Assert.Contains("eastern pilings need funding", note.Text, StringComparison.Ordinal);
        }
        else
        {
            Assert.All(blocks, b => Assert.False(string.IsNullOrEmpty(b.Provenance!.Path), b.Id));
            Assert.Contains(blocks, b => b.Role == BlockRoles.Code && b.Text.Contains("measure --site north", StringComparison.Ordinal));
            Assert.Contains("```\nmeasure --site north --depth", run.Markdown, StringComparison.Ordinal);
        }

        // The picture and its alternative text; pandoc embeds it in DOCX, PPTX and (as a data: URI) HTML.
        var picture = Assert.Single(result.Pictures);
        // pandoc's PPTX writes it as "fig:Aerial view… harbour.png", its figure marker and source: the file's text, kept as written.
        Assert.Contains("Aerial view of the harbour entrance", picture.AltText, StringComparison.Ordinal);
        if (format != DocumentFormats.Markdown)
        {
            Assert.NotNull(picture.Url);
            Assert.True(File.Exists(run.ArtifactPath(Path.Combine("pictures", picture.Id + ".png"))) || Directory.EnumerateFiles(run.Context.ArtifactDirectory!, picture.Id + ".*", SearchOption.AllDirectories).Any());
        }
        else
        {
            Assert.Null(picture.Url);
            Assert.Equal("harbour.png", picture.Reference);
        }

        // Nothing here is a PDF: the PDF-only stages say so instead of failing.
        Assert.Equal(StageOutcome.Skipped, run.Stage(PipelineStageNames.Render).Outcome);
        Assert.Contains("no page images", run.Stage(PipelineStageNames.Render).Reason, StringComparison.Ordinal);
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Ocr).Outcome);
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Tables).Outcome);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    public async Task Html_tables_keep_their_spans_and_header_rows_and_nothing_remote_is_fetched()
    {
        var run = await _pipeline.RunAsync(await File.ReadAllBytesAsync(Fixture("spans.html")), "tides.html");
        await AssertValidResultAsync(run);

        var table = Assert.Single(run.Result.Tables);
        Assert.Equal((4, 3, 2), (table.RowCount, table.ColumnCount, table.HeaderRows));
        var day = table.Cells.Single(c => c.Text == "Day");
        Assert.Equal((0, 0, 2, 1), (day.Row, day.Column, day.RowSpan, day.ColumnSpan));
        var high = table.Cells.Single(c => c.Text == "High water");
        Assert.Equal((0, 1, 1, 2), (high.Row, high.Column, high.RowSpan, high.ColumnSpan));
        Assert.Equal((1, 1), (table.Cells.Single(c => c.Text == "Morning").Row, table.Cells.Single(c => c.Text == "Morning").Column));
        Assert.Equal(2, table.Cells.Single(c => c.Text == "no measurement").ColumnSpan);
        Assert.Contains("rowspan=\"2\"", run.Html, StringComparison.Ordinal);
        Assert.Contains("colspan=\"2\"", run.Html, StringComparison.Ordinal);

        var blocks = run.Result.Pages.Single().Blocks;
        Assert.DoesNotContain(blocks, b => b.Text.Contains("never run", StringComparison.Ordinal));
        Assert.Contains(blocks, b => b.Role == BlockRoles.Caption && b.Text == "The tide gauge on the north pier");
        Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Clean the float" && b.ListDepth == 1 && b.ListOrdered == false);
        Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Record the reading" && b.ListDepth == 0 && b.ListOrdered == true);
        Assert.Contains(blocks, b => b.Role == BlockRoles.Code && b.Text == "tide --read north");
        var picture = Assert.Single(run.Result.Pictures);
        Assert.Null(picture.Url);
        Assert.Equal("https://example.invalid/tide-gauge.png", picture.Reference);
        Assert.Equal("/html/body[1]/table[1]", blocks.Single(b => b.Role == BlockRoles.Table).Provenance!.Path);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    public async Task Docx_merged_cells_become_row_and_column_spans()
    {
        var run = await _pipeline.RunAsync(MergedCellsDocx.Create(), "merged.docx");

        var table = Assert.Single(run.Result.Tables);
        Assert.Equal((3, 3, 2), (table.RowCount, table.ColumnCount, table.HeaderRows));
        var quarter = table.Cells.Single(c => c.Text == "Quarter");
        Assert.Equal((0, 0, 2, 1), (quarter.Row, quarter.Column, quarter.RowSpan, quarter.ColumnSpan));
        var tonnage = table.Cells.Single(c => c.Text == "Tonnage");
        Assert.Equal((0, 1, 1, 2), (tonnage.Row, tonnage.Column, tonnage.RowSpan, tonnage.ColumnSpan));
        Assert.Equal((1, 1), (table.Cells.Single(c => c.Text == "Inbound").Row, table.Cells.Single(c => c.Text == "Inbound").Column));
        Assert.Contains("rowspan=\"2\"", run.Html, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    [Trait("Req", "DEG-8")]
    [InlineData("page-text.png", DocumentFormats.Png)]
    [InlineData("page-text.jpg", DocumentFormats.Jpeg)]
    public async Task An_image_is_one_page_read_by_ocr_with_its_page_image(string file, string format)
    {
        var run = await _pipeline.RunAsync(await File.ReadAllBytesAsync(Fixture(file)), "scan");

        Assert.Equal(format, run.Result.Format);
        await AssertValidResultAsync(run);
        var page = Assert.Single(run.Result.Pages);
        Assert.Equal(PageExtractors.Ocr, page.Extractor);
        // 200 dpi stated by pdftoppm: the page is the A4 page it was rendered from.
        Assert.InRange(page.Width, 590, 600);
        Assert.NotNull(page.Image);
        Assert.True(File.Exists(run.ArtifactPath(Path.Combine("pages", "1.png"))) || Directory.EnumerateFiles(run.Context.ArtifactDirectory!, "*.png", SearchOption.AllDirectories).Any());
        AssertRecall(await File.ReadAllTextAsync(Fixture("page-text.txt")), run.Markdown);
        Assert.Equal(StageOutcome.Skipped, run.Stage(PipelineStageNames.Pictures).Outcome);
        Assert.Contains("page image", run.Stage(PipelineStageNames.Pictures).Reason, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "IN-5")]
    [Trait("Req", "FMT-1")]
    public async Task A_multi_page_tiff_and_a_webp_are_read_frame_by_frame()
    {
        using var frames = new MagickImageCollection();
        var text = new MagickImage(Fixture("page-text.png"));
        frames.Add(text.Clone());
        frames.Add(text.Clone());
        var tiff = frames.ToByteArray(MagickFormat.Tiff);
        var webp = text.ToByteArray(MagickFormat.WebP);

        var tiffRun = await _pipeline.RunAsync(tiff, "two.tiff");
        Assert.Equal(DocumentFormats.Tiff, tiffRun.Result.Format);
        Assert.Equal(2, tiffRun.Result.PageCount);
        var reference = await File.ReadAllTextAsync(Fixture("page-text.txt"));
        foreach (var page in tiffRun.Result.Pages)
        {
            AssertRecall(reference, string.Join('\n', page.Blocks.Select(b => b.Text)));
            Assert.Equal(page.PageNumber, page.Blocks[0].Provenance!.Page);
        }

        var webpRun = await _pipeline.RunAsync(webp, "one.webp");
        Assert.Equal(DocumentFormats.Webp, webpRun.Result.Format);
        AssertRecall(reference, webpRun.Markdown);

        // Frames count against the page limit.
        using var limited = new StagePipeline(new Dictionary<string, string?> { ["Worker:Validate:MaxPages"] = "1" });
        var refused = await Assert.ThrowsAsync<PipelineFailure>(() => limited.RunAsync(tiff, "two.tiff"));
        Assert.Equal(FailureCodes.TooManyPages, refused.Code);
    }
}
