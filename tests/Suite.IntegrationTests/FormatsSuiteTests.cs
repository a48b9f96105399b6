using System.Text.Json;
using ImageMagick;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// Every input format through the gateway and real processes (Req IN-1, FMT-1): a PNG, a JPEG and a two-page TIFF of a
/// corpus page (pdftoppm, then Magick.NET for the frames), and a DOCX, PPTX, HTML and Markdown written by pandoc from one
/// Markdown source (tests/PipelineWorker.Tests/Fixtures/formats, origins in its MANIFEST.md) each complete with their
/// words, and the structured ones with their headings, lists and table. A hostile one of each kind fails with its code.
/// </summary>
[Collection("suite")]
public sealed class FormatsSuiteTests(SuiteFixture suite)
{
    private static readonly TimeSpan ProcessingBudget = TimeSpan.FromMinutes(3);

    private static string Fixture(string name) => FormatFixtures.Path(name);

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "IN-5")]
    [Trait("Req", "FMT-1")]
    [Trait("Req", "DEG-8")]
    public async Task Images_office_and_web_documents_complete_with_their_words_and_structure()
    {
        var pageText = await File.ReadAllTextAsync(Fixture("page-text.txt"));
        var sourceText = FormatFixtures.SourceText();
        byte[] tiff;
        using (var frames = new MagickImageCollection())
        {
            using var page = new MagickImage(Fixture("page-text.png"));
            frames.Add(page.Clone());
            frames.Add(page.Clone());
            tiff = frames.ToByteArray(MagickFormat.Tiff);
        }

        // Names that say nothing about the format: the content decides.
        var uploads = new (string Name, byte[] Content, string Format, string Reference, int Pages)[]
        {
            ("scan-1.bin", await File.ReadAllBytesAsync(Fixture("page-text.png")), DocumentFormats.Png, pageText, 1),
            ("scan-2.bin", await File.ReadAllBytesAsync(Fixture("page-text.jpg")), DocumentFormats.Jpeg, pageText, 1),
            ("scan-3.bin", tiff, DocumentFormats.Tiff, pageText, 2),
            ("report-1.bin", await File.ReadAllBytesAsync(Fixture("source.docx")), DocumentFormats.Docx, sourceText, 0),
            ("report-2.bin", await File.ReadAllBytesAsync(Fixture("source.pptx")), DocumentFormats.Pptx, sourceText, 0),
            ("report-3.bin", await File.ReadAllBytesAsync(Fixture("source.html")), DocumentFormats.Html, sourceText, 0),
            ("report-4.bin", await File.ReadAllBytesAsync(Fixture("source.md")), DocumentFormats.Markdown, sourceText, 0),
        };
        var ids = new List<string>();
        foreach (var upload in uploads)
        {
            ids.Add(await suite.UploadAcceptedAsync(upload.Content, upload.Name));
        }

        foreach (var (upload, id) in uploads.Zip(ids))
        {
            var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);
            Assert.True(RunningSuite.Status(document) == DocumentStatus.Completed, $"{upload.Format}: {document}\n{suite.Diagnostics()}");
            Assert.Equal(upload.Format, document.GetProperty("format").GetString());

            var json = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=json", UriKind.Relative));
            var result = JsonSerializer.Deserialize<DocumentResult>(json, DocumentResult.JsonOptions)!;
            Assert.Equal(upload.Format, result.Format);
            var markdown = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative));
            var recall = PdfText.Recall(upload.Reference, markdown);
            Assert.True(recall >= 0.95, $"{upload.Format}: word recall {recall:F3} < 0.95\n{markdown}");
            var blocks = result.Pages.SelectMany(p => p.Blocks).ToList();
            Assert.All(blocks, b => Assert.NotNull(b.Provenance));

            if (DocumentFormats.IsImage(upload.Format))
            {
                // One page per frame, each OCR'd, its image kept.
                Assert.Equal(upload.Pages, result.PageCount);
                Assert.All(result.Pages, p => Assert.Equal("ocr", p.TextSource));
                using var image = await suite.Gateway.GetAsync(new Uri($"/api/documents/{id}/pages/{upload.Pages}/image", UriKind.Relative));
                Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
                continue;
            }

            // Structure from the file: the title, headings (a PPTX's lower headings are slide text), a nested list, the table.
            Assert.Contains(blocks, b => b.Role is BlockRoles.Title or BlockRoles.SectionHeader && b.Text == "Harbour Inspection Report");
            Assert.Contains(blocks, b => b.Role == BlockRoles.ListItem && b.Text == "Eastern pilings need sealing" && b.ListDepth == 1);
            var table = Assert.Single(result.Tables);
            Assert.Equal("East pier", table.Cells.Single(c => c.Row == 2 && c.Column == 0).Text);
            if (upload.Format != DocumentFormats.Pptx)
            {
                Assert.Contains(blocks, b => b.Role == BlockRoles.SectionHeader && b.Text == "Structural items" && b.Level == 2);
            }

            // The render stage has nothing to render in a structured document, and says so.
            var render = document.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("name").GetString() == PipelineStageNames.Render);
            Assert.Equal(StageStatus.Skipped, render.GetProperty("status").GetString());
            Assert.False(string.IsNullOrWhiteSpace(render.GetProperty("detail").GetString()));
        }
    }

    [Fact]
    [Trait("Req", "IN-3")]
    [Trait("Req", "FMT-1")]
    public async Task A_png_claiming_a_hundred_thousand_pixels_square_fails_with_image_too_large()
    {
        // A real PNG header whose IHDR claims 100000 x 100000 pixels, and one tiny data chunk.
        using var header = new MagickImage(Fixture("page-text.png"));
        var png = header.ToByteArray(MagickFormat.Png);
        png[16] = 0; png[17] = 1; png[18] = 0x86; png[19] = 0xA0;
        png[20] = 0; png[21] = 1; png[22] = 0x86; png[23] = 0xA0;

        var id = await suite.UploadAcceptedAsync(png, "huge.png");
        var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);

        Assert.Equal(DocumentStatus.Failed, RunningSuite.Status(document));
        Assert.Equal("image_too_large", document.GetProperty("error").GetProperty("code").GetString());
    }
}
