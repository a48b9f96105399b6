using System.Net;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>
/// The real suite with every optional dependency of the pipeline gone at once: pdftoppm and tesseract hidden from
/// the workers' PATH, and the vision endpoint configured but down. Documents still complete, the document status and
/// the result say which stages were degraded and why, and the workers report Degraded (not unready).
/// </summary>
[Collection("pipeline-suite")]
public sealed class DegradedEnginesSuiteTests : IAsyncLifetime
{
    private readonly DirectoryInfo _emptyBin = Directory.CreateTempSubdirectory("suite-empty-bin-");
    private RunningSuite _suite = null!;

    public async Task InitializeAsync() => _suite = await RunningSuite.StartAsync(suite => suite.WithEnvironment("pipeline-worker", new Dictionary<string, string>
    {
        ["PATH"] = _emptyBin.FullName,
        ["Pipeline__Describe__Url"] = $"http://127.0.0.1:{FreePort.Next()}",
        ["Pipeline__Describe__Model"] = "any-vision-model",
        ["Resilience__vision__AttemptTimeout__Timeout"] = "00:00:01",
        ["Resilience__vision__Retry__MaxRetryAttempts"] = "1",
    }));

    public async Task DisposeAsync()
    {
        await _suite.DisposeAsync();
        _emptyBin.Delete(recursive: true);
    }

    [Fact]
    [Trait("Req", "DEG-3")]
    [Trait("Req", "DEG-4")]
    [Trait("Req", "DEG-5")]
    [Trait("Req", "DEG-7")]
    [Trait("Req", "DEG-8")]
    [Trait("Req", "SU-4")]
    [Trait("Req", "HC-3")]
    public async Task With_engines_hidden_from_path_and_the_vision_endpoint_down_documents_complete_and_say_what_was_degraded()
    {
        var text = await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf"));
        var scan = await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("ocrmypdf__c02-22.pdf"));
        var photo = await _suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__pdflatex-image.pdf"));

        foreach (var id in new[] { text, scan, photo })
        {
            var document = await _suite.WaitForTerminalAsync(id, TimeSpan.FromMinutes(3));
            Assert.True(document.GetProperty("status").GetString() == "completed", $"{document}\n{_suite.Diagnostics()}");
        }

        var render = await StageAsync(text, PipelineStageNames.Render);
        Assert.Equal("degraded", render.Status);
        Assert.Contains("pdftoppm is not available", render.Detail, StringComparison.Ordinal);
        Assert.Contains("not found on PATH", render.Detail, StringComparison.Ordinal);

        var ocr = await StageAsync(scan, PipelineStageNames.Ocr);
        Assert.Equal("degraded", ocr.Status);
        Assert.Contains("is not available", ocr.Detail, StringComparison.Ordinal);

        var describe = await StageAsync(photo, PipelineStageNames.Describe);
        Assert.Equal("degraded", describe.Status);
        Assert.Contains("1 of 1 pictures stay undescribed", describe.Detail, StringComparison.Ordinal);

        // The result lists the same outcomes, with the text of the text-layer PDF intact.
        var result = await ResultAsync(text);
        Assert.Equal(StageOutcome.Degraded, result.Stages.Single(s => s.Name == PipelineStageNames.Render).Outcome);
        Assert.All(result.Pages, p => Assert.Null(p.Image));
        var markdown = await _suite.Gateway.GetStringAsync(new Uri($"/api/documents/{text}/result?format=markdown", UriKind.Relative));
        Assert.True(PdfText.Recall(await PdfText.ExtractAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf")), markdown) >= 0.95);
        var photoResult = await ResultAsync(photo);
        Assert.Null(Assert.Single(photoResult.Pictures).Description);

        // Each worker is ready but Degraded, and says which engines are missing.
        foreach (var replica in _suite.App.GetReplicas("pipeline-worker"))
        {
            using var client = new HttpClient { BaseAddress = await _suite.App.GetReplicaEndpointAsync("pipeline-worker", replica.Index), Timeout = TimeSpan.FromSeconds(10) };
            using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            using var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.Equal("Degraded", health.RootElement.GetProperty("status").GetString());
            var engines = health.RootElement.GetProperty("checks").GetProperty("engines");
            Assert.Equal("Degraded", engines.GetProperty("status").GetString());
            Assert.Contains("tesseract is not available", engines.GetProperty("description").GetString(), StringComparison.Ordinal);
        }
    }

    private async Task<(string? Status, string? Detail)> StageAsync(string id, string stage)
    {
        var document = await _suite.GetDocumentAsync(id);
        var entry = document.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("name").GetString() == stage);
        return (entry.GetProperty("status").GetString(), entry.TryGetProperty("detail", out var detail) ? detail.GetString() : null);
    }

    private async Task<DocumentResult> ResultAsync(string id) =>
        JsonSerializer.Deserialize<DocumentResult>(
            await _suite.Gateway.GetStringAsync(new Uri($"/api/documents/{id}/result", UriKind.Relative)), DocumentResult.JsonOptions)!;
}
