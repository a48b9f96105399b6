using NJsonSchema;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// What a user gets from real corpus files, checked by hand once and pinned here: roles, reading order, tables,
/// pictures, OCR text, page images, and a JSON result that validates against docs/result.schema.json.
/// </summary>
public sealed class PipelineContentTests : IDisposable
{
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_two_column_paper_has_its_title_and_headers_reads_column_by_column_and_keeps_its_table()
    {
        var run = await _pipeline.RunAsync("sf__multicolumn.pdf");
        var blocks = run.Result.Pages.SelectMany(p => p.Blocks).ToList();

        var title = Assert.Single(blocks, b => b.Role == BlockRoles.Title);
        Assert.Equal("Two-Column Document with Lorem Ipsum", title.Text);
        Assert.Contains(blocks, b => b.Role == BlockRoles.SectionHeader && b.Text == "Abstract");
        Assert.StartsWith("# Two-Column Document with Lorem Ipsum\n", run.Markdown.Split("<!-- page 1 -->\n\n")[1], StringComparison.Ordinal);

        // Page 2 is two columns of body text: every block of the left column comes before every block of the right.
        var page2 = run.Result.Pages[1].Blocks.Where(b => b.Role == BlockRoles.Paragraph).ToList();
        var middle = run.Result.Pages[1].Width / 2;
        var lastLeft = page2.FindLastIndex(b => b.BoundingBox.Left < middle);
        var firstRight = page2.FindIndex(b => b.BoundingBox.Left > middle);
        Assert.True(lastLeft >= 0 && firstRight >= 0 && lastLeft < firstRight, string.Join(" | ", page2.Select(b => $"{b.BoundingBox.Left:0}:{b.Text[..Math.Min(20, b.Text.Length)]}")));

        // Page 3's table of countries, as a table block with its cells, and as a Markdown table.
        var table = Assert.Single(run.Result.Tables);
        Assert.Equal(3, table.PageNumber);
        Assert.Equal(5, table.ColumnCount);
        Assert.True(table.RowCount >= 6, $"{table.RowCount} rows");
        Assert.Equal("Country", Cell(table, 0, 0));
        Assert.Equal("Austria", Cell(table, 1, 0));
        Assert.Equal("Vienna", Cell(table, 1, 3));
        var tableBlock = Assert.Single(blocks, b => b.Role == BlockRoles.Table);
        Assert.Equal(table.Id, tableBlock.TableId);
        Assert.Contains("| Austria | 8.9 | 83,879 | Vienna | German |", run.Markdown, StringComparison.Ordinal);
        Assert.DoesNotContain(blocks, b => b.Role == BlockRoles.Paragraph && b.Text.Contains("Copenhagen", StringComparison.Ordinal));

        Assert.All(run.Result.Pages, p => Assert.Equal(BlockRoles.PageFooter, p.Blocks[^1].Role));
    }

    [Fact]
    public async Task Ruled_statistics_table_becomes_a_cell_grid_with_one_row_per_state()
    {
        var run = await _pipeline.RunAsync("pdfplumber__nics-background-checks-2015-11.pdf");

        var table = run.Result.Tables.MaxBy(t => t.RowCount)!;
        Assert.Equal("ruling", table.Detection);
        Assert.True(table.RowCount >= 50, $"{table.RowCount} rows");
        var alabama = table.Cells.Single(c => c.Text == "Alabama");
        Assert.Equal("18,870", table.Cells.Single(c => c.Row == alabama.Row && c.Column == alabama.Column + 1).Text);
        Assert.Contains(table.Cells, c => c.Text == "Wyoming");
    }

    [Fact]
    public async Task Senate_expenditure_table_keeps_payee_and_amount_in_one_row()
    {
        var run = await _pipeline.RunAsync("pdfplumber__senate-expenditures.pdf");

        var cells = run.Result.Tables.SelectMany(t => t.Cells.Select(c => (Table: t, Cell: c))).ToList();
        var payee = cells.Single(c => c.Cell.Text == "BAIN, J MATTHEW");
        Assert.Contains(cells, c => c.Table == payee.Table && c.Cell.Row == payee.Cell.Row && c.Cell.Text == "37,499.96");
        Assert.Contains(run.Result.Pages[0].Blocks, b => b.Role == BlockRoles.Table);
    }

    [Fact]
    public async Task Federal_register_has_running_heads_section_headers_and_list_items()
    {
        var run = await _pipeline.RunAsync("pdfplumber__federal-register-2020-17221.pdf");
        var blocks = run.Result.Pages.SelectMany(p => p.Blocks).ToList();

        Assert.Contains(blocks, b => b.Role == BlockRoles.SectionHeader && b.Text == "Background");
        Assert.Contains(blocks, b => b.Role == BlockRoles.SectionHeader && b.Text == "Comments Invited");
        Assert.True(blocks.Count(b => b.Role == BlockRoles.ListItem) >= 5);
        // "Federal Register / Vol. 85, No. 152 / ..." heads every page after the first.
        Assert.True(run.Result.Pages.Skip(1).Count(p => p.Blocks.Any(b => b.Role == BlockRoles.PageHeader && b.Text.Contains("Federal Register", StringComparison.Ordinal))) >= 10);
        Assert.Empty(run.Result.Tables);
        Assert.Contains("#### Background\n", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_embedded_photo_is_a_picture_with_its_box_and_its_jpeg_file()
    {
        var run = await _pipeline.RunAsync("sf__pdflatex-image.pdf");

        var picture = Assert.Single(run.Result.Pictures);
        Assert.Equal("p1-pic1", picture.Id);
        Assert.Equal(300, picture.BoundingBox.Right - picture.BoundingBox.Left, 1);
        Assert.Equal(200, picture.BoundingBox.Top - picture.BoundingBox.Bottom, 1);
        Assert.Equal("image/jpeg", picture.ContentType);
        Assert.Equal(ArtifactRoutes.Picture(run.Context.DocumentId, "p1-pic1"), picture.Url);
        var file = await File.ReadAllBytesAsync(run.ArtifactPath("pictures/p1-pic1.jpg"));
        Assert.Equal([0xFF, 0xD8, 0xFF], file[..3]);

        var blocks = run.Result.Pages[0].Blocks.ToList();
        var pictureBlock = Assert.Single(blocks, b => b.Role == BlockRoles.Picture);
        Assert.Equal("p1-pic1", pictureBlock.PictureId);
        // Placed between the paragraph above the photo and the one below it.
        var index = blocks.IndexOf(pictureBlock);
        Assert.True(blocks[index - 1].BoundingBox.Bottom >= picture.BoundingBox.Top - 5 && blocks[index + 1].BoundingBox.Top <= picture.BoundingBox.Bottom + 5);
        Assert.Contains(blocks, b => b.Role == BlockRoles.SectionHeader && b.Text == "1 Your Chapter");
        Assert.Contains($"![Picture p1-pic1]({picture.Url})", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "DEG-8")]
    public async Task A_scanned_page_gets_ocr_text_with_boxes_on_the_page()
    {
        var run = await _pipeline.RunAsync("ocrmypdf__c02-22.pdf");

        var page = Assert.Single(run.Result.Pages);
        Assert.Equal("ocr", page.TextSource);
        // Words readable on the scan (Huckleberry Finn, chapter 2).
        foreach (var word in new[] { "tip-toeing", "garden", "kitchen", "Watson" })
        {
            Assert.Contains(word, run.Markdown, StringComparison.Ordinal);
        }

        Assert.All(page.Blocks, b => Assert.True(b.BoundingBox.Left >= 0 && b.BoundingBox.Right <= page.Width + 1 && b.BoundingBox.Bottom >= -1 && b.BoundingBox.Top <= page.Height + 1));
        Assert.Equal(StageOutcome.Ok, run.Stage(PipelineStageNames.Ocr).Outcome);
        // The scan itself is the page's text now, not a picture.
        Assert.Empty(run.Result.Pictures);
    }

    [Fact]
    public async Task Every_page_gets_an_image_whose_size_follows_the_dpi()
    {
        var run = await _pipeline.RunAsync("sf__pdflatex-4-pages.pdf");

        foreach (var page in run.Result.Pages)
        {
            var image = page.Image!;
            Assert.Equal(ArtifactRoutes.PageImage(run.Context.DocumentId, page.PageNumber), image.Url);
            Assert.Equal(120, image.Dpi);
            Assert.Equal(page.Width / 72 * 120, image.WidthPx, 1.0);
            var (width, height) = PageRenderer.PngSize(run.ArtifactPath($"pages/{page.PageNumber}.png"));
            Assert.Equal((image.WidthPx, image.HeightPx), (width, height));
        }
    }

    [Fact]
    public async Task Rendering_is_capped_by_pixels_not_only_by_dpi()
    {
        using var pipeline = new StagePipeline(new Dictionary<string, string?> { ["Pipeline:Render:Dpi"] = "600", ["Pipeline:Render:MaxPixels"] = "200000" });

        var run = await pipeline.RunAsync("sf__minimal-document.pdf");

        var image = run.Result.Pages[0].Image!;
        Assert.True(image.WidthPx * image.HeightPx <= 200_000 * 1.02, $"{image.WidthPx}x{image.HeightPx}");
        Assert.True(image.Dpi < 600);
        Assert.Equal((image.WidthPx, image.HeightPx), PageRenderer.PngSize(run.ArtifactPath("pages/1.png")));
    }

    [Theory]
    [InlineData("sf__multicolumn.pdf")]
    [InlineData("pdfplumber__nics-background-checks-2015-11.pdf")]
    [InlineData("sf__pdflatex-image.pdf")]
    [InlineData("sf__imagemagick-images.pdf")]
    [InlineData("ocrmypdf__linn.pdf")]
    public async Task The_json_result_validates_against_the_published_schema(string file)
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.RepoRoot, "docs", "result.schema.json"));

        var run = await _pipeline.RunAsync(file);

        var errors = schema.Validate(run.Submission.Json);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
        Assert.Equal(run.Result.Pages.SelectMany(p => p.Blocks).Select(b => b.Id), run.Result.ReadingOrder);
    }

    private static string Cell(ResultTable table, int row, int column) => table.Cells.Single(c => c.Row == row && c.Column == column).Text;
}
