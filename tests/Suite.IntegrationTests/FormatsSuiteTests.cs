using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ImageMagick;
using Microsoft.ML.Tokenizers;
using Suite.Chunking;
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

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task Chunks_of_processed_documents_come_through_the_gateway_within_their_limit_and_the_same_every_time()
    {
        // The Markdown report precomputes hybrid chunks at upload; the 15-page Federal Register issue is chunked when asked.
        var report = await UploadWithFieldAsync(await File.ReadAllBytesAsync(Fixture("source.md")), "report.md", ("chunks", "hybrid"));
        var register = await suite.UploadAcceptedAsync(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("pdfplumber__federal-register-2020-17221.pdf")), "register.pdf");
        var counter = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        foreach (var (id, query, maxTokens) in new[] { (report, "", 512), (register, "?maxTokens=128&overlapTokens=16", 128) })
        {
            var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);
            Assert.True(RunningSuite.Status(document) == DocumentStatus.Completed, $"{document}\n{suite.Diagnostics()}");

            using var first = await suite.Gateway.GetAsync(new Uri($"/api/documents/{id}/chunks{query}", UriKind.Relative));
            var bytes = await first.Content.ReadAsByteArrayAsync();
            Assert.True(first.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
            Assert.Equal(ChunkJsonLines.MediaType, first.Content.Headers.ContentType?.MediaType);
            using var second = await suite.Gateway.GetAsync(new Uri($"/api/documents/{id}/chunks{query}", UriKind.Relative));
            Assert.Equal(bytes, await second.Content.ReadAsByteArrayAsync());

            var chunks = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ChunkJsonLines.Parse).ToList();
            Assert.NotEmpty(chunks);
            Assert.All(chunks, c => Assert.True(counter.CountTokens(c.Text) <= maxTokens, c.Text));
            var markdown = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative));
            var covered = string.Join("\n", chunks.Select(c => string.Join(" ", c.Headings) + " " + c.Text));
            // Every word of the Markdown is in some chunk, but for what is no text of the document: comments (page markers,
            // running heads), picture links and their placeholder names, ordered-list markers.
            var prose = System.Text.RegularExpressions.Regex.Replace(markdown, @"<!--.*?-->|!\[Picture p[0-9]+-pic[0-9]+\]\([^)]*\)|\]\([^)]*\)|(?m)^[ ]*[0-9]+\. ", " ",
                System.Text.RegularExpressions.RegexOptions.Singleline);
            var recall = PdfText.Recall(prose, covered);
            Assert.True(recall >= 1.0, $"word recall {recall:F3}");
            if (id == report)
            {
                Assert.Equal(["Harbour Inspection Report", "Findings", "Structural items"],
                    chunks.First(c => c.Text.Contains("Eastern pilings", StringComparison.Ordinal)).Headings);
            }
        }

        using var invalid = await suite.Gateway.GetAsync(new Uri($"/api/documents/{register}/chunks?maxTokens=0", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("\"maxTokens\"", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The gateway's merged API document describes the endpoint, as ingest declares it.
        using var openApi = JsonDocument.Parse(await suite.Gateway.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        var chunksOperation = openApi.RootElement.GetProperty("paths").GetProperty("/api/documents/{id}/chunks").GetProperty("get");
        Assert.Equal("GetDocumentChunks", chunksOperation.GetProperty("operationId").GetString());
    }

    private async Task<string> UploadWithFieldAsync(byte[] content, string fileName, (string Name, string Value) field)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(field.Value), field.Name);
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        using var response = await suite.Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetString()!;
    }
}
