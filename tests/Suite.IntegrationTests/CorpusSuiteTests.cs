using System.Net;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// Every PDF of the shared corpus through the real suite (gateway, ingest, two workers, Redis), with OCR on but
/// bounded to 1 page per document (Pipeline:Ocr:MaxPages, reported as degraded when hit) to keep the run short.
/// </summary>
[Collection("pipeline-suite")]
public sealed class CorpusSuiteTests : IAsyncLifetime
{
    /// <summary>Files with a user password (notes in MANIFEST.tsv): refused as encrypted.</summary>
    private static readonly HashSet<string> Encrypted = new(StringComparer.Ordinal)
    {
        "pypdf__r2-user-password.pdf", "pypdf__r4-aes-user-password.pdf", "pypdf__r6-user-password.pdf", "sf__libreoffice-writer-password.pdf",
    };

    /// <summary>Broken beyond repair, and the specific code each ends with.</summary>
    private static readonly Dictionary<string, string> Broken = new(StringComparer.Ordinal)
    {
        ["ocrmypdf__invalid.pdf"] = "corrupt_structure", // header and %%EOF only
        ["sf__unreadablemetadata.pdf"] = "no_content", // damaged trailer; no page can be read by PdfPig or poppler
    };

    private RunningSuite _suite = null!;
    private int _recallChecked;

    // Bounded cost: one OCR page per document at 200 dpi, page images at 72 dpi (every stage still runs for real).
    public async Task InitializeAsync() => _suite = await RunningSuite.StartAsync(suite => suite.WithEnvironment("pipeline-worker", new Dictionary<string, string>
    {
        ["Pipeline__Ocr__MaxPages"] = "1",
        ["Pipeline__Ocr__Dpi"] = "200",
        ["Pipeline__Render__Dpi"] = "72",
        ["Worker__StageTimeoutSeconds"] = "240",
    }));

    public async Task DisposeAsync() => await _suite.DisposeAsync();

    [Fact]
    [Trait("Req", "IN-3")]
    [Trait("Req", "IN-4")]
    [Trait("Req", "ERR-2")]
    [Trait("Req", "DEG-8")]
    [Trait("Req", "IN-1")]
    public async Task Every_corpus_pdf_reaches_a_terminal_state_valid_ones_complete_and_the_others_fail_with_a_specific_code()
    {
        var files = Directory.GetFiles(RepoPaths.CorpusDir, "*.pdf").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(60, files.Count);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            ids[Path.GetFileName(file)] = await _suite.UploadAcceptedAsync(file);
        }

        var problems = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(9);
        foreach (var (file, id) in ids)
        {
            var remaining = deadline - DateTime.UtcNow;
            var document = await _suite.WaitForTerminalAsync(id, remaining > TimeSpan.FromSeconds(5) ? remaining : TimeSpan.FromSeconds(5));
            var status = document.GetProperty("status").GetString();
            var code = document.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;
            var expected = Encrypted.Contains(file) ? "encrypted" : Broken.GetValueOrDefault(file);
            if (expected is null && status != "completed")
            {
                problems.Add($"{file}: expected completed, got {status} {code}: {(code is null ? "" : error.GetProperty("message").GetString())}");
            }
            else if (expected is not null && (status != "failed" || code != expected))
            {
                problems.Add($"{file}: expected failed with {expected}, got {status} {code}");
            }

            if (status == "completed")
            {
                problems.AddRange(await CheckResultAsync(file, id, document));
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems) + "\n" + _suite.Diagnostics());
        // About fifteen of the corpus's files have 50 words or more for pdftotext: the recall check really ran.
        Assert.True(_recallChecked >= 10, $"word recall checked on {_recallChecked} files only");

        await CheckArtifactsAsync(ids["sf__pdflatex-image.pdf"]);
    }

    /// <summary>The stored result matches the document's stages and has one entry per stage.</summary>
    private async Task<List<string>> CheckResultAsync(string file, string id, JsonElement document)
    {
        var problems = new List<string>();
        var json = await _suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=json", UriKind.Relative));
        var result = JsonSerializer.Deserialize<DocumentResult>(json, DocumentResult.JsonOptions)!;
        if (!result.Stages.Select(s => s.Name).SequenceEqual(PipelineStageNames.All))
        {
            problems.Add($"{file}: result stages {string.Join(",", result.Stages.Select(s => s.Name))}");
        }

        foreach (var stage in document.GetProperty("stages").EnumerateArray())
        {
            var name = stage.GetProperty("name").GetString()!;
            var status = stage.GetProperty("status").GetString();
            var outcome = result.Stages.Single(s => s.Name == name);
            var expected = outcome.Outcome switch
            {
                StageOutcome.Ok => "completed",
                StageOutcome.Degraded => "degraded",
                _ => "skipped",
            };
            if (status != expected)
            {
                problems.Add($"{file}: stage {name} is {status} in the document status but {outcome.Outcome} in the result");
            }

            if (status is "degraded" or "skipped" && string.IsNullOrWhiteSpace(outcome.Reason))
            {
                problems.Add($"{file}: stage {name} is {status} without a reason");
            }
        }

        if (result.Pages.Sum(p => p.Blocks.Count) == 0)
        {
            problems.Add($"{file}: completed without any block");
        }

        // What poppler reads, the suite reads too (form fields included, they are in the text rendering).
        var reference = await PdfText.ExtractAsync(RepoPaths.CorpusFile(file));
        if (PdfText.Words(reference).Count >= 50)
        {
            Interlocked.Increment(ref _recallChecked);
            var text = await _suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result?format=text", UriKind.Relative));
            var recall = PdfText.Recall(reference, text);
            if (recall < 0.9)
            {
                problems.Add($"{file}: word recall {recall:F3} against pdftotext, under 0.9");
            }
        }

        return problems;
    }

    /// <summary>The page image and picture of a completed document are served through the gateway; absent ones are 404 problems.</summary>
    private async Task CheckArtifactsAsync(string id)
    {
        var result = JsonSerializer.Deserialize<DocumentResult>(
            await _suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result", UriKind.Relative)), DocumentResult.JsonOptions)!;
        var image = result.Pages[0].Image ?? throw new InvalidOperationException("page 1 has no image");
        using (var page = await _suite.Gateway.GetAsync(new Uri(image.Url, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("image/png", page.Content.Headers.ContentType?.MediaType);
            var bytes = await page.Content.ReadAsByteArrayAsync();
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
        }

        var picture = Assert.Single(result.Pictures);
        using (var file = await _suite.Gateway.GetAsync(new Uri(picture.Url!, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal("image/jpeg", file.Content.Headers.ContentType?.MediaType);
        }

        // The internal store refuses writes without the current lease, and to a finished document.
        using var ingest = new HttpClient { BaseAddress = _suite.App.GetEndpoint("ingest"), Timeout = TimeSpan.FromSeconds(30) };
        var png = await _suite.Gateway.GetByteArrayAsync(new Uri(image.Url, UriKind.Relative));
        // "attempts" is the number of claims, i.e. the current lease token: right lease, but the document is finished.
        var current = (await _suite.GetDocumentAsync(id)).GetProperty("attempts").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (lease, code) in new[] { ((string?)null, "stale_lease"), ("999999", "stale_lease"), (current, "document_terminal") })
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, InternalApi.PageImageArtifact(id, 1)) { Content = new ByteArrayContent(png) };
            if (lease is not null)
            {
                put.Headers.Add(InternalApi.LeaseTokenHeader, lease);
            }

            using var refused = await ingest.SendAsync(put);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
        }

        foreach (var absent in new[] { $"/api/documents/{id}/pages/99/image", $"/api/documents/{id}/pictures/p1-pic9" })
        {
            using var missing = await _suite.Gateway.GetAsync(new Uri(absent, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }
    }
}
