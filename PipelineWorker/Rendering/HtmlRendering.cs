using System.Globalization;
using System.Text;
using Suite.Contracts;

namespace Suite.PipelineWorker.Rendering;

/// <summary>
/// The HTML rendering of the result (format=html): one complete HTML5 document, written page by page like the
/// Markdown. Semantic elements only: each page a <c>&lt;section data-page="n"&gt;</c>, the title <c>h1</c> and section
/// headers <c>h2</c>–<c>h6</c> by level (as the Markdown's <c>#</c>), paragraphs, lists (<see cref="HtmlLists"/>),
/// tables with their header rows and spans (<see cref="HtmlTables"/>), pictures as <c>figure</c> with the image at
/// its public URL (the Markdown's), running heads and footers as the page's <c>header</c> and <c>footer</c>. Every
/// text goes through <see cref="HtmlText"/>; there is no script and nothing loaded from elsewhere (the pictures
/// are the document's own, under the API).
/// </summary>
internal static class HtmlRendering
{
    /// <summary>
    /// The document's language is not known (a PDF rarely says, and OCR's language setting is a guess), so the
    /// page says "undetermined" in BCP 47 rather than claim one.
    /// </summary>
    public const string Language = "und";

    /// <summary>The page title: the first page's title or first section header, else the file name.</summary>
    public static string Title(string fileName, IReadOnlyList<ResultBlock> firstPageBlocks)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(firstPageBlocks);
        var heading = firstPageBlocks.FirstOrDefault(b => b.Role == BlockRoles.Title && b.Text.Trim().Length > 0)
            ?? firstPageBlocks.FirstOrDefault(b => b.Role == BlockRoles.SectionHeader && b.Text.Trim().Length > 0);
        return heading is null ? fileName : ResultRendering.OneLine(heading.Text);
    }

    public static void AppendDocumentStart(StringBuilder html, string title)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(title);
        html.Append("<!DOCTYPE html>\n<html lang=\"").Append(Language).Append("\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").AppendEncoded(title).Append("</title>\n")
            .Append("<style>table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.2em .4em;vertical-align:top}")
            .Append("figure img{max-width:100%;height:auto}section+section{border-top:1px dashed #bbb}</style>\n")
            .Append("</head>\n<body>\n<main>\n");
    }

    public static void AppendDocumentEnd(StringBuilder html)
    {
        ArgumentNullException.ThrowIfNull(html);
        html.Append("</main>\n</body>\n</html>\n");
    }

    /// <summary>One page as a section; lists do not run on across a page break.</summary>
    public static void AppendPage(
        StringBuilder html,
        int pageNumber,
        IReadOnlyList<ResultBlock> blocks,
        IReadOnlyDictionary<string, ResultTable>? tables = null,
        IReadOnlyDictionary<string, ResultPicture>? pictures = null)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(blocks);
        html.Append(CultureInfo.InvariantCulture, $"<section data-page=\"{pageNumber}\" aria-label=\"Page {pageNumber}\">\n");
        var list = new HtmlLists(html);
        foreach (var block in blocks)
        {
            if (block.Role == BlockRoles.ListItem)
            {
                list.Add(block);
                continue;
            }

            list.Close();
            var table = block.TableId is not null && tables is not null ? tables.GetValueOrDefault(block.TableId) : null;
            var picture = block.PictureId is not null && pictures is not null ? pictures.GetValueOrDefault(block.PictureId) : null;
            AppendBlock(html, block, table, picture);
        }

        list.Close();
        html.Append("</section>\n");
    }

    private static void AppendBlock(StringBuilder html, ResultBlock block, ResultTable? table, ResultPicture? picture)
    {
        switch (block.Role)
        {
            case BlockRoles.Title:
                Element(html, "h1", ResultRendering.OneLine(block.Text));
                break;
            case BlockRoles.SectionHeader:
                Element(html, "h" + Math.Clamp((block.Level ?? 1) + 1, 2, 6).ToString(CultureInfo.InvariantCulture), ResultRendering.OneLine(block.Text));
                break;
            case BlockRoles.PageHeader:
                Element(html, "header", block.Text);
                break;
            case BlockRoles.PageFooter:
                Element(html, "footer", block.Text);
                break;
            case BlockRoles.Caption:
                html.Append("<p class=\"caption\">").AppendEncoded(block.Text).Append("</p>\n");
                break;
            case BlockRoles.Code:
                html.Append("<pre><code>").AppendEncoded(block.Text).Append("</code></pre>\n");
                break;
            case BlockRoles.Note:
                html.Append("<aside class=\"note\" aria-label=\"Speaker notes\">");
                Element(html, "p", block.Text);
                html.Append("</aside>\n");
                break;
            case BlockRoles.Table when table is not null:
                HtmlTables.Append(html, table);
                break;
            case BlockRoles.Picture:
                AppendFigure(html, block, picture);
                break;
            default:
                if (block.Text.Trim().Length > 0)
                {
                    Element(html, "p", block.Text);
                }

                break;
        }
    }

    /// <summary>
    /// The picture at its public URL with the same alternative text as the Markdown's image (its description, else
    /// "Picture id"); the caption says the same, or that no file was stored.
    /// </summary>
    private static void AppendFigure(StringBuilder html, ResultBlock block, ResultPicture? picture)
    {
        var id = picture?.Id ?? block.PictureId ?? block.Id;
        var alt = ResultRendering.OneLine(picture?.Description ?? picture?.AltText ?? $"Picture {id}");
        html.Append("<figure data-picture=\"").AppendEncoded(id).Append("\">\n");
        if (picture?.Url is { } url)
        {
            html.Append("<img src=\"").AppendEncoded(url).Append("\" alt=\"").AppendEncoded(alt).Append('"');
            if (picture is { WidthPx: { } width, HeightPx: { } height })
            {
                html.Append(CultureInfo.InvariantCulture, $" width=\"{width}\" height=\"{height}\"");
            }

            html.Append(">\n");
            Element(html, "figcaption", alt);
        }
        else
        {
            Element(html, "figcaption", (picture?.Description ?? picture?.AltText) is { } description
                ? $"Picture {id} (no file stored): {ResultRendering.OneLine(description)}"
                : $"Picture {id} (no file stored)");
        }

        html.Append("</figure>\n");
    }

    private static void Element(StringBuilder html, string name, string text) =>
        html.Append('<').Append(name).Append('>').AppendEncoded(text).Append("</").Append(name).Append(">\n");
}
