using System.Text;
using Suite.Contracts;
using Suite.PipelineWorker.Rendering;
using Suite.PipelineWorker.Stages;

namespace PipelineWorker.Tests;

/// <summary>
/// The worker's HTML rendering of result blocks, without a PDF: headings by level, lists with their kinds, numbering
/// and nesting, figures with the picture's public URL, page sections, and text that is always escaped.
/// </summary>
public sealed class HtmlRenderingTests
{
    private static readonly BoundingBox At = new(72, 700, 500, 712);

    [Fact]
    public void Headings_go_by_level_and_the_title_names_the_page()
    {
        ResultBlock[] blocks =
        [
            Block("b1", BlockRoles.Title, "Annual <Report>"),
            Block("b2", BlockRoles.SectionHeader, "Summary", level: 1),
            Block("b3", BlockRoles.SectionHeader, "Details", level: 2),
            Block("b4", BlockRoles.SectionHeader, "Deepest", level: 9),
            Block("b5", BlockRoles.Paragraph, "First line\nsecond line"),
            Block("b6", BlockRoles.PageFooter, "1"),
        ];

        var document = Html5.ParseValid(Render("report.pdf", [blocks]));

        Assert.Equal("Annual <Report>", document.Title);
        Assert.Equal("Annual <Report>", Assert.Single(document.QuerySelectorAll("h1")).TextContent);
        Assert.Equal("Summary", document.QuerySelector("h2")!.TextContent);
        Assert.Equal("Details", document.QuerySelector("h3")!.TextContent);
        Assert.Equal("Deepest", document.QuerySelector("h6")!.TextContent);
        Assert.Equal("First line\nsecond line", document.QuerySelector("section p")!.TextContent);
        Assert.Equal("1", document.QuerySelector("section footer")!.TextContent);
    }

    [Fact]
    public void Without_a_heading_on_the_first_page_the_file_name_is_the_title()
    {
        var document = Html5.ParseValid(Render("scan & notes.pdf", [[Block("b1", BlockRoles.Paragraph, "text")], [Block("b2", BlockRoles.Title, "Later")]]));

        Assert.Equal("scan & notes.pdf", document.Title);
        Assert.Equal(["1", "2"], document.QuerySelectorAll("main > section").Select(s => s.GetAttribute("data-page")));
    }

    [Fact]
    public void Bullets_become_an_unordered_list_and_numbers_an_ordered_one_that_keeps_them()
    {
        ResultBlock[] blocks =
        [
            Block("b1", BlockRoles.ListItem, "• apples"),
            Block("b2", BlockRoles.ListItem, "• pears\ncontinued"),
            Block("b3", BlockRoles.Paragraph, "Then the steps:"),
            Block("b4", BlockRoles.ListItem, "3. third"),
            Block("b5", BlockRoles.ListItem, "4) fourth"),
            Block("b6", BlockRoles.ListItem, "(b) letter"),
        ];

        var document = Html5.ParseValid(Render("lists.pdf", [blocks]));

        var bullets = document.QuerySelector("ul")!;
        Assert.Equal(["apples", "pears\ncontinued"], bullets.Children.Select(li => li.TextContent));
        var numbered = document.QuerySelectorAll("ol");
        Assert.Equal(["3", "4"], numbered[0].Children.Select(li => li.GetAttribute("value")));
        Assert.Equal(["third", "fourth"], numbered[0].Children.Select(li => li.TextContent));
        Assert.Equal("a", numbered[1].GetAttribute("type"));
        Assert.Equal("2", numbered[1].Children.Single().GetAttribute("value"));
        Assert.Equal("letter", numbered[1].Children.Single().TextContent);
        // The paragraph between them closed the first list.
        Assert.Equal("P", bullets.NextElementSibling!.TagName);
    }

    [Fact]
    public void An_indented_item_opens_a_list_inside_the_one_before_and_an_outdented_one_returns()
    {
        ResultBlock[] blocks =
        [
            Block("b1", BlockRoles.ListItem, "1. outer one", left: 72),
            Block("b2", BlockRoles.ListItem, "• inner a", left: 90),
            Block("b3", BlockRoles.ListItem, "• inner b", left: 90),
            Block("b4", BlockRoles.ListItem, "2. outer two", left: 72),
        ];

        var document = Html5.ParseValid(Render("nested.pdf", [blocks]));

        var outer = Assert.Single(document.QuerySelectorAll("section > ol"));
        Assert.Equal(2, outer.Children.Length);
        var inner = Assert.Single(outer.Children[0].QuerySelectorAll("ul"));
        Assert.Equal(["inner a", "inner b"], inner.Children.Select(li => li.TextContent));
        Assert.Equal("outer two", outer.Children[1].TextContent);
    }

    [Fact]
    public void A_picture_is_a_figure_with_its_public_url_alternative_text_and_caption()
    {
        var stored = new ResultPicture("p1-pic1", 1, At) { Url = ArtifactRoutes.Picture("doc1", "p1-pic1"), WidthPx = 300, HeightPx = 200, Description = "A bar \"chart\"" };
        var missing = new ResultPicture("p1-pic2", 1, At);
        ResultBlock[] blocks =
        [
            Block("p1-pic1", BlockRoles.Picture, "A bar \"chart\"") with { PictureId = "p1-pic1" },
            Block("p1-pic2", BlockRoles.Picture, "") with { PictureId = "p1-pic2" },
        ];

        var html = Render("pictures.pdf", [blocks], pictures: new Dictionary<string, ResultPicture> { [stored.Id] = stored, [missing.Id] = missing });
        var document = Html5.ParseValid(html);

        var figures = document.QuerySelectorAll("figure");
        var image = figures[0].QuerySelector("img")!;
        Assert.Equal("/api/documents/doc1/pictures/p1-pic1", image.GetAttribute("src"));
        Assert.Equal("A bar \"chart\"", image.GetAttribute("alt"));
        Assert.Equal(("300", "200"), (image.GetAttribute("width"), image.GetAttribute("height")));
        Assert.Equal("A bar \"chart\"", figures[0].QuerySelector("figcaption")!.TextContent);
        // The Markdown shows the same picture at the same URL.
        var markdown = new StringBuilder();
        ResultRendering.AppendPage(markdown, new StringBuilder(), true, 1, blocks, null, new Dictionary<string, ResultPicture> { [stored.Id] = stored });
        Assert.Contains($"]({image.GetAttribute("src")})", markdown.ToString(), StringComparison.Ordinal);

        Assert.Null(figures[1].QuerySelector("img"));
        Assert.Contains("no file stored", figures[1].QuerySelector("figcaption")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_is_always_text_never_markup_and_characters_html_forbids_are_replaced()
    {
        const string hostile = "<script>alert('x')</script> & <img src=x onerror=alert(1)> \"quoted\"";
        ResultBlock[] blocks =
        [
            Block("b1", BlockRoles.Title, hostile),
            Block("b2", BlockRoles.Paragraph, hostile + "\u0001\u0085\uFFFE\uD800 end"),
            Block("b3", BlockRoles.ListItem, "• " + hostile),
            Block("b4", BlockRoles.Caption, "</p><p>" + hostile),
        ];

        var html = Render(hostile + ".pdf", [blocks]);
        var document = Html5.ParseValid(html);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot;", html, StringComparison.Ordinal);
        Assert.Equal(hostile, document.Title);
        Assert.Equal(hostile, document.QuerySelector("h1")!.TextContent);
        Assert.Equal(hostile + "\uFFFD\uFFFD\uFFFD\uFFFD end", document.QuerySelector("section > p")!.TextContent);
        Assert.Equal(hostile, document.QuerySelector("li")!.TextContent);
        Assert.Equal("</p><p>" + hostile, document.QuerySelector("p.caption")!.TextContent);
    }

    [Fact]
    public void A_table_has_its_header_rows_in_thead_and_its_spans()
    {
        var table = new ResultTable("p1-t1", 1, At, 3, 3,
        [
            new TableCell(0, 0, "Name") { RowSpan = 2 },
            new TableCell(0, 1, "Size <cm>") { ColumnSpan = 2 },
            new TableCell(1, 1, "width"),
            new TableCell(1, 2, "height"),
            new TableCell(2, 0, "box"),
            new TableCell(2, 1, "10"),
            new TableCell(2, 2, "20"),
        ])
        { HeaderRows = 2 };
        ResultBlock[] blocks = [Block("p1-t1", BlockRoles.Table, "") with { TableId = "p1-t1" }];

        var document = Html5.ParseValid(Render("table.pdf", [blocks], tables: new Dictionary<string, ResultTable> { ["p1-t1"] = table }));

        var head = document.QuerySelectorAll("table > thead > tr");
        Assert.Equal(2, head.Length);
        var name = head[0].Children[0];
        Assert.Equal(("TH", "2", "Name"), (name.TagName, name.GetAttribute("rowspan"), name.TextContent));
        Assert.Equal(("2", "Size <cm>"), (head[0].Children[1].GetAttribute("colspan"), head[0].Children[1].TextContent));
        Assert.Equal(["width", "height"], head[1].Children.Select(c => c.TextContent));
        Assert.Equal(["box", "10", "20"], document.QuerySelectorAll("table > tbody > tr > td").Select(c => c.TextContent));

        // Markdown has no spans: one header row naming each column from the top down, covered positions empty.
        var markdown = new StringBuilder();
        ResultRendering.AppendPage(markdown, new StringBuilder(), true, 1, blocks, new Dictionary<string, ResultTable> { ["p1-t1"] = table });
        Assert.Contains("| Name | Size \\<cm\\> width | Size \\<cm\\> height |\n| --- | --- | --- |\n| box | 10 | 20 |\n", markdown.ToString(), StringComparison.Ordinal);
    }

    private static string Render(
        string fileName,
        IReadOnlyList<IReadOnlyList<ResultBlock>> pages,
        IReadOnlyDictionary<string, ResultTable>? tables = null,
        IReadOnlyDictionary<string, ResultPicture>? pictures = null)
    {
        var html = new StringBuilder();
        HtmlRendering.AppendDocumentStart(html, HtmlRendering.Title(fileName, pages[0]));
        for (var p = 0; p < pages.Count; p++)
        {
            HtmlRendering.AppendPage(html, p + 1, pages[p], tables, pictures);
        }

        HtmlRendering.AppendDocumentEnd(html);
        return html.ToString();
    }

    private static ResultBlock Block(string id, string role, string text, int? level = null, double left = 72) =>
        new(id, 1, role, text, At with { Left = left }) { Level = role == BlockRoles.Title ? 0 : level };
}
