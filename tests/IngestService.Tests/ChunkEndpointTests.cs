using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Suite.Chunking;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>
/// GET /api/documents/{id}/chunks against the real service (Req OUT-3): a result stored through the internal API as a
/// worker stores it, chunked as JSON Lines within maxTokens by the named tokenizer, covering every word, the same bytes
/// on every request; bad parameters named in a 400; unknown and unfinished documents answered as /result answers them;
/// chunks asked for at upload (chunks=hybrid) stored with the result and served from disk. The chunking of real
/// pipeline results of the corpus is checked in PipelineWorker.Tests (ChunkingTests).
/// </summary>
[Collection("ingest")]
public sealed partial class ChunkEndpointTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task Chunks_stream_as_json_lines_within_maxTokens_cover_every_word_and_are_the_same_bytes_twice()
    {
        var id = await UploadAsync();
        var result = LongResult(id);
        await CompleteAsync(id, result);

        using var first = await Client.GetAsync($"/api/documents/{id}/chunks?maxTokens=64&overlapTokens=8");
        var bytes = await first.Content.ReadAsByteArrayAsync();
        Assert.True(first.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        Assert.Equal(ChunkJsonLines.MediaType, first.Content.Headers.ContentType?.MediaType);
        using var second = await Client.GetAsync($"/api/documents/{id}/chunks?overlapTokens=8&maxTokens=64&tokenizer=cl100k_base&strategy=hybrid");
        Assert.Equal(bytes, await second.Content.ReadAsByteArrayAsync());

        var chunks = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ChunkJsonLines.Parse).ToList();
        var counter = TiktokenTokenizer.CreateForEncoding("cl100k_base");
        Assert.True(chunks.Count > 10);
        Assert.All(chunks, c => Assert.True(counter.CountTokens(c.Text) <= 64 && c.TokenCount == counter.CountTokens(c.Text), c.Text));
        Assert.All(chunks, c => Assert.Equal("cl100k_base", c.Tokenizer));
        Assert.Contains(chunks, c => c.Overlap > 0);
        Assert.Contains(chunks, c => c.Split == ChunkSplits.Sentences);
        Assert.Contains(chunks, c => c.Split == ChunkSplits.Rows);

        // Every word of the document (the running footer aside; a table by its cells) is in some chunk's text or heading path.
        var words = chunks.SelectMany(c => Words(c.Text[c.Overlap..]).Concat(c.Headings.SelectMany(Words))).ToHashSet(StringComparer.Ordinal);
        var source = result.Pages.SelectMany(p => p.Blocks).Where(b => b.Role is not (BlockRoles.PageFooter or BlockRoles.Table)).Select(b => b.Text)
            .Concat(result.Tables.SelectMany(t => t.Cells).Select(c => c.Text));
        Assert.Empty(source.SelectMany(Words).Where(w => !words.Contains(w)).Distinct());
        Assert.DoesNotContain(chunks, c => c.Text.Contains("Page footer", StringComparison.Ordinal));

        // Heading paths: by level, a level-1 header closing the level-2 one above it.
        Assert.Equal(["Annual Harbour Review", "Operations", "Inspections"], chunks.First(c => c.Text.Contains("Pier 3 | ", StringComparison.Ordinal)).Headings);
        Assert.Equal(["Annual Harbour Review", "Finance"], chunks.First(c => c.Text.Contains("The budget", StringComparison.Ordinal)).Headings);
        var finance = chunks.First(c => c.Text.Contains("The budget", StringComparison.Ordinal));
        Assert.Equal([2], finance.Pages);
        Assert.Contains(finance.Boxes, b => b.BlockId == "p2-b2" && b.Page == 2 && b.Top == 700);

        // Each table part repeats the header row; no row is cut.
        foreach (var part in chunks.Where(c => c.Split == ChunkSplits.Rows))
        {
            Assert.Contains("Pier | Depth | Condition", part.Text, StringComparison.Ordinal);
        }

        for (var row = 1; row <= 40; row++)
        {
            Assert.Contains(chunks, c => c.Text.Split('\n').Contains($"Pier {row} | {row}.5 | fair"));
        }

        using var hierarchical = await Client.GetAsync($"/api/documents/{id}/chunks?strategy=hierarchical&maxTokens=2000&tokenizer=o200k_base");
        var elements = (await hierarchical.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ChunkJsonLines.Parse).ToList();
        Assert.Equal(HttpStatusCode.OK, hierarchical.StatusCode);
        Assert.All(elements, c => Assert.Equal("o200k_base", c.Tokenizer));
        Assert.Equal(result.Pages.SelectMany(p => p.Blocks).Count(b => b.Role is not (BlockRoles.PageFooter or BlockRoles.Title or BlockRoles.SectionHeader)), elements.Count);
    }

    [Theory]
    [Trait("Req", "OUT-3")]
    [InlineData("strategy=sideways", "strategy")]
    [InlineData("maxTokens=many", "maxTokens")]
    [InlineData("maxTokens=8", "maxTokens")]
    [InlineData("maxTokens=9000", "maxTokens")]
    [InlineData("maxTokens=-5", "maxTokens")]
    [InlineData("maxTokens=64&overlapTokens=64", "overlapTokens")]
    [InlineData("maxTokens=64&overlapTokens=33", "overlapTokens")]
    [InlineData("overlapTokens=-1", "overlapTokens")]
    [InlineData("strategy=hierarchical&overlapTokens=4", "overlapTokens")]
    [InlineData("tokenizer=gpt2", "tokenizer")]
    [InlineData("maxTokens=64&maxTokens=128", "maxTokens")]
    public async Task An_invalid_parameter_is_a_400_naming_it(string query, string parameter)
    {
        var id = await UploadAsync();
        await CompleteAsync(id, LongResult(id));

        using var response = await Client.GetAsync($"/api/documents/{id}/chunks?{query}");
        var problem = await Api.JsonAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid_chunk_parameter", problem.GetProperty("code").GetString());
        Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
        Assert.Contains($"'{parameter}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task Unknown_unfinished_and_failed_documents_answer_as_their_result_does()
    {
        using (var unknown = await Client.GetAsync($"/api/documents/{new string('a', 32)}/chunks"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal("document_not_found", (await Api.JsonAsync(unknown)).GetProperty("code").GetString());
        }

        var queued = await UploadAsync();
        using (var notReady = await Client.GetAsync($"/api/documents/{queued}/chunks"))
        {
            Assert.Equal(HttpStatusCode.Conflict, notReady.StatusCode);
            Assert.Equal("result_not_ready", (await Api.JsonAsync(notReady)).GetProperty("code").GetString());
        }

        var failed = await UploadAsync();
        var worker = new FakeWorker(Client, failed);
        await worker.ClaimAsync();
        await worker.FailAsync("pdf_unreadable", "The file could not be read.");
        using var noResult = await Client.GetAsync($"/api/documents/{failed}/chunks");
        Assert.Equal(HttpStatusCode.Conflict, noResult.StatusCode);
        Assert.Equal("no_result", (await Api.JsonAsync(noResult)).GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task Chunks_asked_for_at_upload_are_stored_with_the_result_and_served_from_disk()
    {
        using (var refused = await UploadResponseAsync(("chunks", "sideways")))
        {
            var problem = await Api.JsonAsync(refused);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("invalid_option", problem.GetProperty("code").GetString());
        }

        using var accepted = await UploadResponseAsync(("chunks", "hybrid"));
        var body = await Api.JsonAsync(accepted);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("hybrid", body.GetProperty("options").GetProperty("chunks").GetString());
        var id = body.GetProperty("id").GetString()!;
        await CompleteAsync(id, LongResult(id));

        var stored = Path.Combine(fixture.Host.Root, "results", id, "chunks", "hybrid-512-0-cl100k_base.jsonl");
        Assert.True(File.Exists(stored), stored);
        var onDisk = await File.ReadAllBytesAsync(stored);

        using var served = await Client.GetAsync($"/api/documents/{id}/chunks");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(onDisk, await served.Content.ReadAsByteArrayAsync());

        // Accept: application/json gets the same objects as one array.
        var lines = Encoding.UTF8.GetString(onDisk).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[" + string.Join(',', lines) + "]", await ArrayAsync(id));

        // The file is what the service would compute: proved by removing it and asking again.
        File.Delete(stored);
        using var computed = await Client.GetAsync($"/api/documents/{id}/chunks?strategy=hybrid&maxTokens=512");
        Assert.Equal(onDisk, await computed.Content.ReadAsByteArrayAsync());
        Assert.Equal("[" + string.Join(',', lines) + "]", await ArrayAsync(id));
        Assert.Equal(lines.Length, JsonDocument.Parse(await ArrayAsync(id)).RootElement.GetArrayLength());

        // A document uploaded without the option has nothing precomputed.
        var plain = await UploadAsync();
        await CompleteAsync(plain, LongResult(plain));
        Assert.False(Directory.Exists(Path.Combine(fixture.Host.Root, "results", plain, "chunks")));
    }

    /// <summary>
    /// A result as the worker would store it: a title, nested sections (a level-2 header under a level-1 one, then
    /// another level-1 one), a paragraph of 60 sentences, list items, a 40-row table with a header row, a second page,
    /// a running footer.
    /// </summary>
    private static DocumentResult LongResult(string id)
    {
        var box = new BoundingBox(72, 100, 540, 700);
        var paragraph = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"Sentence {i} records that berth {i} was dredged to {i + 2} metres in week {i}."));
        var cells = new List<TableCell> { new(0, 0, "Pier"), new(0, 1, "Depth"), new(0, 2, "Condition") };
        for (var row = 1; row <= 40; row++)
        {
            cells.AddRange([new(row, 0, $"Pier {row}", new BoundingBox(72, 700 - (row * 12), 200, 712 - (row * 12))), new(row, 1, $"{row}.5"), new(row, 2, "fair")]);
        }

        ResultBlock Block(string blockId, int page, string role, string text, int? level = null) =>
            new(blockId, page, role, text, box) { Level = level };

        var page1 = new List<ResultBlock>
        {
            Block("p1-b1", 1, BlockRoles.Title, "Annual Harbour Review", 0),
            Block("p1-b2", 1, BlockRoles.SectionHeader, "Operations", 1),
            Block("p1-b3", 1, BlockRoles.Paragraph, paragraph),
            Block("p1-b4", 1, BlockRoles.SectionHeader, "Inspections", 2),
            Block("p1-b5", 1, BlockRoles.ListItem, "Breakwater stones are stable"),
            Block("p1-b6", 1, BlockRoles.ListItem, "Lighthouse lamp replaced in March"),
            Block("p1-b7", 1, BlockRoles.Table, "table", null) with { TableId = "p1-t1" },
            Block("p1-b8", 1, BlockRoles.PageFooter, "Page footer one"),
        };
        var page2 = new List<ResultBlock>
        {
            Block("p2-b1", 2, BlockRoles.SectionHeader, "Finance", 1),
            Block("p2-b2", 2, BlockRoles.Paragraph, "The budget for dredging was met. Repairs cost less than planned."),
            Block("p2-b3", 2, BlockRoles.Caption, "Figure 1: spending by quarter"),
        };
        var pages = new List<ResultPage> { new(1, 612, 792, page1), new(2, 612, 792, page2) };
        return new DocumentResult
        {
            DocumentId = id,
            FileName = "review.pdf",
            PageCount = 2,
            Pages = pages,
            ReadingOrder = pages.SelectMany(p => p.Blocks).Select(b => b.Id).ToList(),
            Tables = [new ResultTable("p1-t1", 1, box, 41, 3, cells) { HeaderRows = 1 }],
            Stages = [new StageOutcome("assemble", StageOutcome.Ok)],
        };
    }

    private async Task<string> ArrayAsync(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/documents/{id}/chunks");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private Task<string> UploadAsync() => Api.UploadOkAsync(Client, UniquePdf(), "chunks.pdf");

    private async Task<HttpResponseMessage> UploadResponseAsync((string Name, string Value) field)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(field.Value), field.Name);
        var file = new ByteArrayContent(UniquePdf());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", "chunks.pdf");
        return await Client.PostAsync(new Uri("/api/documents", UriKind.Relative), form);
    }

    private async Task CompleteAsync(string id, DocumentResult result)
    {
        var worker = new FakeWorker(Client, id);
        var lease = await worker.ClaimAsync();
        var json = JsonSerializer.Serialize(result, DocumentResult.JsonOptions);
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Result(id), lease, JsonContent.Create(new ResultSubmission(json, "# review\n", "review\n", "<!DOCTYPE html><title>review</title>\n")));
        using var response = await Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static byte[] UniquePdf() => [.. Api.MinimalPdf, .. Encoding.ASCII.GetBytes($"\n%{Guid.NewGuid():N}\n")];

    private static IEnumerable<string> Words(string text) => WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant());

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();
}
