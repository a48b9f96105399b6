using System.Net;
using System.Text.Json;
using Suite.Contracts;
using Suite.Testing.Webhooks;

namespace Suite.IntegrationTests;

/// <summary>A PDF uploaded through the gateway travels through real processes and comes back as a result.</summary>
[Collection("suite")]
public sealed class EndToEndTests(SuiteFixture suite)
{
    private static readonly TimeSpan ProcessingBudget = TimeSpan.FromMinutes(3);

    [Fact]
    [Trait("Req", "OUT-1")]
    public async Task An_upload_with_a_callbackUrl_through_the_gateway_is_notified_signed_when_it_completes()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(receiver.At("/suite-hook").ToString()), "callbackUrl");
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"))), "file", "minimal.pdf");
        using var upload = await suite.Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
        var answer = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement;
        Assert.True(upload.StatusCode == HttpStatusCode.Accepted, answer.ToString());
        var id = answer.GetProperty("id").GetString()!;
        var secret = answer.GetProperty("callbackSecret").GetString()!;

        Assert.Equal("completed", RunningSuite.Status(await suite.WaitForTerminalAsync(id, ProcessingBudget)));
        await Eventually.UntilAsync(() => receiver.Unique.Count == 1, TimeSpan.FromSeconds(60), "the notification arrives");
        var notification = receiver.Unique[0];
        Assert.True(notification.IsSignedWith(secret), "signed with the upload's callbackSecret");
        var body = JsonDocument.Parse(notification.Body).RootElement;
        Assert.Equal("document.completed", body.GetProperty("type").GetString());
        Assert.Equal(id, body.GetProperty("data").GetProperty("id").GetString());

        // The delivery is visible through the gateway.
        await Eventually.UntilAsync(async () =>
        {
            var list = JsonDocument.Parse(await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/webhooks", UriKind.Relative))).RootElement;
            return list.GetProperty("items")[0].GetProperty("status").GetString() == "delivered";
        }, TimeSpan.FromSeconds(30), "the delivery is recorded as delivered");
        using var deadLetters = await suite.Gateway.GetAsync(new Uri("/api/webhooks/dead-letters", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, deadLetters.StatusCode);
    }

    [Fact]
    public async Task Text_layer_pdfs_uploaded_through_the_gateway_complete_with_the_words_pdftotext_finds()
    {
        string[] files = ["sf__pdflatex-4-pages.pdf", "sf__multicolumn.pdf", "pdfplumber__federal-register-2020-17221.pdf"];
        var ids = new Dictionary<string, string>();
        foreach (var file in files)
        {
            ids[file] = await suite.UploadAcceptedAsync(RepoPaths.CorpusFile(file));
        }

        foreach (var (file, id) in ids)
        {
            var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);
            Assert.True(document.GetProperty("status").GetString() == "completed",
                $"{file}: {document}\n{suite.Diagnostics()}");
            // Every stage ran to an end; optional ones may be skipped (e.g. describe without a vision model).
            var stages = document.GetProperty("stages").EnumerateArray()
                .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("status").GetString());
            Assert.All(stages.Values, status => Assert.Contains(status, new[] { "completed", "degraded", "skipped" }));
            Assert.All(new[] { "validate", "extract", "assemble" }, core => Assert.Equal("completed", stages[core]));

            var markdown = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative));
            var reference = await PdfText.ExtractAsync(RepoPaths.CorpusFile(file));
            var recall = PdfText.Recall(reference, markdown);
            Assert.True(recall >= 0.9, $"{file}: word recall {recall:F3} < 0.9");

            var json = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=json", UriKind.Relative));
            var result = JsonSerializer.Deserialize<DocumentResult>(json, DocumentResult.JsonOptions)!;
            Assert.Equal(id, result.DocumentId);
            Assert.Equal(result.PageCount, result.Pages.Count);
            Assert.Equal(Enumerable.Range(1, result.PageCount), result.Pages.Select(p => p.PageNumber));
            Assert.All(result.Pages.SelectMany(p => p.Blocks.Select(b => (p, b))), pair => Assert.Equal(pair.p.PageNumber, pair.b.PageNumber));

            var text = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=text", UriKind.Relative));
            Assert.True(PdfText.Recall(reference, text) >= 0.9, $"{file}: text rendering misses words");
        }
    }

    [Fact]
    [Trait("Req", "FMT-4")]
    [Trait("Req", "ERR-3")]
    public async Task Pipeline_options_sent_as_form_fields_through_the_gateway_choose_the_pages_and_the_ocr_language_and_are_echoed()
    {
        // Four scanned German pages (no text layer): OCR in German, of pages 2 and 3 only.
        string[][] pages = [.. Enumerable.Range(1, 4).Select(n => new[] { $"Seite {n}", "Größe und Straße", "Fußgänger grüßen die Bürger" })];
        var pdf = await ScannedPdfs.ScanPagesAsync(pages);

        using (var languages = await suite.Gateway.GetAsync(new Uri("/api/ocr/languages", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, languages.StatusCode);
            using var list = JsonDocument.Parse(await languages.Content.ReadAsStringAsync());
            Assert.Contains("deu", list.RootElement.GetProperty("languages").EnumerateArray().Select(l => l.GetString()));
        }

        using (var refused = await UploadWithFieldsAsync(pdf, ("ocrLanguages", "deu"), ("ocr", "always")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("invalid_option", problem.RootElement.GetProperty("code").GetString());
            Assert.Equal("ocr", problem.RootElement.GetProperty("field").GetString());
        }

        using var accepted = await UploadWithFieldsAsync(pdf, ("pageRange", "2-3"), ("ocrLanguages", "deu"), ("tables", "off"));
        var body = await accepted.Content.ReadAsStringAsync();
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);
        Assert.True(RunningSuite.Status(document) == "completed", $"{document}\n{suite.Diagnostics()}");
        var echoed = document.GetProperty("options");
        Assert.Equal("2-3", echoed.GetProperty("pageRange").GetString());
        Assert.Equal("deu", echoed.GetProperty("ocrLanguages").GetString());

        var json = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=json", UriKind.Relative));
        var result = JsonSerializer.Deserialize<DocumentResult>(json, DocumentResult.JsonOptions)!;
        Assert.Equal([2, 3], result.Pages.Select(p => p.PageNumber));
        Assert.Equal(new DocumentOptions { PageRange = "2-3", OcrLanguages = "deu", Tables = Switch.Off }, result.Options);
        Assert.All(result.Pages, p => Assert.Equal("ocr", p.TextSource));
        var text = await suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=text", UriKind.Relative));
        Assert.Contains("Seite 2", text, StringComparison.Ordinal);
        Assert.Contains("Seite 3", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Seite 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Seite 4", text, StringComparison.Ordinal);
        Assert.Contains("Größe", text, StringComparison.Ordinal);
        Assert.Contains("Straße", text, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> UploadWithFieldsAsync(byte[] pdf, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "seiten.pdf");
        return await suite.Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
    }

    [Fact]
    [Trait("Req", "IN-4")]
    public async Task A_password_protected_pdf_ends_failed_with_the_encrypted_code()
    {
        var id = await suite.UploadAcceptedAsync(RepoPaths.CorpusFile("pypdf__r4-aes-user-password.pdf"));

        var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);

        Assert.Equal("failed", document.GetProperty("status").GetString());
        Assert.Equal("encrypted", document.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(document.GetProperty("error").GetProperty("message").GetString()));
        using var result = await suite.Gateway.GetAsync(new Uri($"/api/documents/{id}/result", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, result.StatusCode);
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "ERR-1")]
    public async Task A_file_that_is_not_a_pdf_is_refused_with_a_415_problem_whatever_its_name_and_declared_type()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-a-pdf-{Guid.NewGuid():N}.pdf");
        await File.WriteAllBytesAsync(path, [0x7F, (byte)'E', (byte)'L', (byte)'F', .. "hello, I am not a PDF"u8.ToArray()]);
        try
        {
            using var response = await suite.UploadAsync(path, "report.pdf", "application/pdf");

            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("unsupported_format", problem.RootElement.GetProperty("code").GetString());
            Assert.Contains("PDF", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("traceId").GetString()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    [Trait("Req", "ERR-1")]
    public async Task An_unknown_document_id_is_a_404_problem_through_the_gateway()
    {
        foreach (var path in new[] { "/api/documents/0123456789abcdef0123456789abcdef", "/api/documents/0123456789abcdef0123456789abcdef/result" })
        {
            using var response = await suite.Gateway.GetAsync(new Uri(path, UriKind.Relative));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("document_not_found", problem.RootElement.GetProperty("code").GetString());
        }
    }

    [Fact]
    [Trait("Req", "IN-1")]
    [Trait("Req", "IN-3")]
    public async Task A_batch_through_the_gateway_answers_each_file_and_its_valid_files_complete()
    {
        var files = new (string Name, byte[] Content, string? Code)[]
        {
            ("minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")), null),
            ("empty.pdf", [], "empty_file"),
            ("notes.md", await File.ReadAllBytesAsync(FormatFixtures.Path("source.md")), null),
            ("noise.bin", [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08], "unsupported_format"),
            ("four-pages.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")), null),
        };
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("off"), "describePictures");
        foreach (var (name, content, _) in files)
        {
            form.Add(new ByteArrayContent(content), "file", name);
        }

        using var response = await suite.Gateway.PostAsync(new Uri("/api/batches", UriKind.Relative), form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.MultiStatus, text);
        using var answer = JsonDocument.Parse(text);
        var batchId = answer.RootElement.GetProperty("batchId").GetString()!;
        var items = answer.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(files.Select(f => f.Name), items.Select(i => i.GetProperty("fileName").GetString()));
        var ids = new List<string>();
        foreach (var (file, item) in files.Zip(items))
        {
            if (file.Code is null)
            {
                ids.Add(item.GetProperty("document").GetProperty("id").GetString()!);
            }
            else
            {
                Assert.Equal(file.Code, item.GetProperty("problem").GetProperty("code").GetString());
            }
        }

        foreach (var id in ids)
        {
            var document = await suite.WaitForTerminalAsync(id, ProcessingBudget);
            Assert.True(RunningSuite.Status(document) == DocumentStatus.Completed, $"{document}\n{suite.Diagnostics()}");
        }

        using var batch = JsonDocument.Parse(await suite.Gateway.GetStringAsync(new Uri($"/api/batches/{batchId}", UriKind.Relative)));
        Assert.True(batch.RootElement.GetProperty("done").GetBoolean(), batch.RootElement.ToString());
        Assert.Equal(ids.Count, batch.RootElement.GetProperty("counts").GetProperty(DocumentStatus.Completed).GetInt32());
        Assert.Equal(2, batch.RootElement.GetProperty("counts").GetProperty("refused").GetInt32());
    }
}
