using Suite.Contracts;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace PipelineWorker.Tests;

/// <summary>
/// The HTML rendering of real pipeline runs: it parses as HTML5 without an error, carries the document's structure
/// (title, headings, tables with header rows and spans, pages) and never lets a PDF's text become markup.
/// </summary>
public sealed class HtmlOutputTests : IDisposable
{
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task A_ruled_table_document_is_valid_html5_with_thead_and_the_spans_of_its_header()
    {
        var run = await _pipeline.RunAsync("pdfplumber__nics-background-checks-2015-11.pdf");

        var document = Html5.ParseValid(run.Html);

        var table = run.Result.Tables.MaxBy(t => t.RowCount)!;
        var element = document.QuerySelector($"table[data-table='{table.Id}']")!;
        var head = element.QuerySelectorAll("thead > tr");
        Assert.Equal(table.HeaderRows, head.Length);
        Assert.All(head, tr => Assert.All(tr.Children, cell => Assert.Equal("TH", cell.TagName)));
        Assert.Equal("25", head[0].Children.Single().GetAttribute("colspan"));
        var prePawn = head[2].Children.Single(c => c.TextContent == "Pre-Pawn");
        Assert.Equal(("3", "colgroup"), (prePawn.GetAttribute("colspan"), prePawn.GetAttribute("scope")));
        Assert.Equal("2", head[2].Children.Single(c => c.TextContent == "Permit").GetAttribute("rowspan"));
        // Every body row fills the 25 columns, and no cell of the header reaches into the body.
        var body = element.QuerySelectorAll("tbody > tr");
        Assert.Equal(table.RowCount - table.HeaderRows, body.Length);
        var alabama = body.First(tr => tr.Children[0].TextContent == "Alabama");
        Assert.Equal(25, alabama.Children.Length);
        Assert.Equal(["Alabama", "18,870", "23,022"], alabama.Children.Take(3).Select(c => c.TextContent));
        Assert.Equal(run.Result.PageCount, document.QuerySelectorAll("main > section[data-page]").Length);
        Assert.Equal(run.Context.FileName, document.Title);
    }

    [Fact]
    public async Task A_paper_has_one_h1_its_title_section_headers_and_its_table_with_a_header_row()
    {
        var run = await _pipeline.RunAsync("sf__multicolumn.pdf");

        var document = Html5.ParseValid(run.Html);

        const string title = "Two-Column Document with Lorem Ipsum";
        Assert.Equal(title, Assert.Single(document.QuerySelectorAll("h1")).TextContent);
        Assert.Equal(title, document.Title);
        Assert.Contains(document.QuerySelectorAll("h2, h3, h4, h5, h6"), h => h.TextContent == "Abstract");
        var table = Assert.Single(document.QuerySelectorAll("table"));
        Assert.Equal(["Country", "Population (millions)"], table.QuerySelectorAll("thead th").Take(2).Select(th => th.TextContent));
        Assert.Contains(table.QuerySelectorAll("tbody tr"), tr => tr.Children.Select(td => td.TextContent).SequenceEqual(["Austria", "8.9", "83,879", "Vienna", "German"]));
        Assert.Equal(["1", "2", "3"], document.QuerySelectorAll("main > section").Select(s => s.GetAttribute("data-page")));
        Assert.All(document.QuerySelectorAll("section"), s => Assert.Equal("FOOTER", s.Children[^1].TagName));
    }

    [Fact]
    public async Task A_picture_is_a_figure_whose_image_is_the_pictures_public_url()
    {
        var run = await _pipeline.RunAsync("sf__pdflatex-image.pdf");

        var document = Html5.ParseValid(run.Html);

        var picture = Assert.Single(run.Result.Pictures);
        var image = Assert.Single(document.QuerySelectorAll("figure > img"));
        Assert.Equal(ArtifactRoutes.Picture(run.Context.DocumentId, picture.Id), image.GetAttribute("src"));
        Assert.Equal($"Picture {picture.Id}", image.GetAttribute("alt"));
        Assert.Contains($"![Picture {picture.Id}]({image.GetAttribute("src")})", run.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Markup_written_as_text_in_a_pdf_comes_out_escaped_in_html_and_markdown()
    {
        const string script = "<script>alert('pwned')</script>";
        const string tag = "Tom & Jerry <img src=x onerror=alert(1)> \"end\"";
        var pdf = HostilePdf(script, tag);

        var run = await _pipeline.RunAsync(pdf, "<b>hostile</b>.pdf");
        var document = Html5.ParseValid(run.Html);

        Assert.DoesNotContain("<script", run.Html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", run.Html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;", run.Html, StringComparison.Ordinal);
        Assert.Equal(script, document.QuerySelector("h1")!.TextContent);
        Assert.Equal(script, document.Title);
        Assert.Contains(document.QuerySelectorAll("p"), p => p.TextContent.StartsWith(tag, StringComparison.Ordinal));
        Assert.Empty(document.QuerySelectorAll("b, img"));
        // The Markdown escapes the same text, so a Markdown renderer shows it as written too.
        Assert.Contains("# \\<script\\>alert('pwned')\\</script\\>", run.Markdown, StringComparison.Ordinal);
        Assert.Contains("Tom & Jerry \\<img src=x onerror=alert(1)\\> \"end\"", run.Markdown, StringComparison.Ordinal);
    }

    /// <summary>A one-page PDF whose large bold title and body paragraph are the given strings, as any author could write them.</summary>
    private static byte[] HostilePdf(string title, string paragraph)
    {
        var builder = new PdfDocumentBuilder();
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        var page = builder.AddPage(PageSize.A4);
        page.AddText(title, 20, new PdfPoint(72, 760), bold);
        page.AddText(paragraph, 11, new PdfPoint(72, 720), regular);
        page.AddText("An ordinary sentence follows the hostile one, so that the page reads as body text.", 11, new PdfPoint(72, 705), regular);
        return builder.Build();
    }
}
