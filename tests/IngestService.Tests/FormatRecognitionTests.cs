using System.IO.Compression;
using System.Net;
using System.Text;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Uploads are recognised by their bytes, never by name (Req IN-1): each format the suite reads is accepted with the
/// format it is, whatever it is called; containers and text that are none of them get 415 <c>unsupported_format</c>.
/// Images are made by poppler's pdftoppm from a corpus PDF, at test time.
/// </summary>
[Collection("ingest")]
public sealed class FormatRecognitionTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    [InlineData("-png", DocumentFormats.Png)]
    [InlineData("-jpeg", DocumentFormats.Jpeg)]
    [InlineData("-tiff", DocumentFormats.Tiff)]
    public async Task An_image_named_pdf_is_accepted_as_the_image_it_is(string pdftoppmFormat, string format)
    {
        var image = await RenderAsync(pdftoppmFormat);

        var body = await UploadAcceptedAsync(image, "scan.pdf");

        Assert.Equal(format, body.GetProperty("format").GetString());
        using var detail = await Client.GetAsync($"/api/documents/{body.GetProperty("id").GetString()}");
        Assert.Equal(format, (await Api.JsonAsync(detail)).GetProperty("format").GetString());
    }

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    [InlineData("word/document.xml", DocumentFormats.Docx)]
    [InlineData("ppt/presentation.xml", DocumentFormats.Pptx)]
    public async Task An_office_package_is_told_by_its_parts(string mainPart, string format)
    {
        var package = Zip(("[Content_Types].xml", "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"), (mainPart, "<x/>"));

        var body = await UploadAcceptedAsync(package, "report.pdf");

        Assert.Equal(format, body.GetProperty("format").GetString());
    }

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    [InlineData("<!DOCTYPE html>\n<html><head><title>t</title></head><body><h1>Report</h1></body></html>", DocumentFormats.Html)]
    [InlineData("\uFEFF<html lang=\"en\"><body><p>Hello</p></body></html>", DocumentFormats.Html)]
    [InlineData("# Report\n\nSome text.\n", DocumentFormats.Markdown)]
    [InlineData("Report\n======\n\nSome text.\n", DocumentFormats.Markdown)]
    [InlineData("Shopping:\n\n- bread\n- milk\n", DocumentFormats.Markdown)]
    [InlineData("| a | b |\n|---|---|\n| 1 | 2 |\n", DocumentFormats.Markdown)]
    public async Task Structured_text_is_html_or_markdown(string text, string format)
    {
        var body = await UploadAcceptedAsync(Encoding.UTF8.GetBytes(text), "notes.pdf");
        Assert.Equal(format, body.GetProperty("format").GetString());
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-1")]
    public async Task A_pdf_keeps_format_pdf()
    {
        var body = await UploadAcceptedAsync(Api.MinimalPdf, "doc.pdf");
        Assert.Equal(DocumentFormats.Pdf, body.GetProperty("format").GetString());
    }

    [Theory]
    [Trait("Req", "IN-1")]
    [Trait("Req", "FMT-3")]
    [InlineData("zip")]
    [InlineData("text")]
    [InlineData("binary")]
    [InlineData("riff")]
    public async Task What_is_none_of_the_formats_is_refused_and_nothing_is_stored(string kind)
    {
        var content = kind switch
        {
            // A zip without an Office package's parts (a DOCX name does not make it one).
            "zip" => Zip(("payload.bin", new string('x', 5000))),
            // Prose without any Markdown structure.
            "text" => Encoding.UTF8.GetBytes("Just a sentence, and another one.\nNo headings, lists or tables here.\n"),
            "binary" => [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. new byte[9000]],
            // RIFF but not WebP (a WAV header).
            _ => [.. "RIFF\0\0\0\0WAVEfmt "u8.ToArray(), .. new byte[100]],
        };
        var before = Directory.GetFiles(fixture.Host.UploadsDir).Length;

        using var response = await Api.UploadAsync(Client, content, "thing.docx");

        await Api.AssertProblemAsync(response, 415, "unsupported_format");
        Assert.Equal(before, Directory.GetFiles(fixture.Host.UploadsDir).Length);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    public void Recognition_needs_no_more_than_the_head_for_binary_formats()
    {
        Assert.Equal(DocumentFormats.Webp, DocumentFormats.Sniff([.. "RIFF\u0010\0\0\0WEBPVP8 "u8.ToArray()]));
        Assert.Equal(DocumentFormats.Tiff, DocumentFormats.Sniff("MM\0*\0\0\0\u0008"u8));
        Assert.Equal(DocumentFormats.Pdf, DocumentFormats.Sniff([.. "garbage\n"u8.ToArray(), .. "%PDF-1.4"u8.ToArray()]));
        Assert.Null(DocumentFormats.Sniff([0xFF, 0xFE, 0x00, 0x00]));
        Assert.Null(DocumentFormats.Sniff([]));
    }

    private async Task<System.Text.Json.JsonElement> UploadAcceptedAsync(byte[] content, string name)
    {
        using var response = await Api.UploadAsync(Client, content, name, "application/pdf");
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await Api.JsonAsync(response);
    }

    private static async Task<byte[]> RenderAsync(string pdftoppmFormat)
    {
        var folder = Directory.CreateTempSubdirectory("format-recognition-");
        try
        {
            var run = await ProcessRun.RunAsync("pdftoppm", ["-r", "30", "-f", "1", "-l", "1", pdftoppmFormat, RepoPaths.CorpusFile("sf__minimal-document.pdf"), Path.Combine(folder.FullName, "page")], TimeSpan.FromSeconds(30));
            Assert.True(run.ExitCode == 0, run.ToString());
            return await File.ReadAllBytesAsync(Assert.Single(Directory.GetFiles(folder.FullName)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var writer = new StreamWriter(archive.CreateEntry(name).Open());
                writer.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
