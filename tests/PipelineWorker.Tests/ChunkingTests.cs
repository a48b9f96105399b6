using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Suite.Chunking;
using Suite.Contracts;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>The real results the chunking tests cut: each corpus file run once through every stage, locally.</summary>
public sealed class ChunkingCorpus : IDisposable
{
    private readonly StagePipeline _pipeline = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<StagePipeline.Run>>> _runs = new(StringComparer.Ordinal);

    internal Task<StagePipeline.Run> RunAsync(string file) =>
        _runs.GetOrAdd(file, name => new Lazy<Task<StagePipeline.Run>>(() => name.EndsWith(".md", StringComparison.Ordinal)
            ? _pipeline.RunAsync(File.ReadAllBytes(FormatFixtures.Path(name)), name)
            : _pipeline.RunAsync(name))).Value;

    public void Dispose() => _pipeline.Dispose();
}

/// <summary>
/// Chunks of real pipeline results (Req OUT-3): the corpus's long documents (15 pages of the Federal Register, a page-wide
/// table of background checks, a LaTeX paper with numbered sections) and the Markdown fixture with three heading levels.
/// Never over maxTokens by the named tokenizer, every word of the Markdown rendering in some chunk, no table row cut in
/// two, correct heading paths, and the same bytes every time.
/// </summary>
public sealed partial class ChunkingTests(ChunkingCorpus corpus) : IClassFixture<ChunkingCorpus>
{
    public const string FederalRegister = "pdfplumber__federal-register-2020-17221.pdf";
    public const string BackgroundChecks = "pdfplumber__nics-background-checks-2015-11.pdf";
    public const string LatexOutline = "sf__pdflatex-outline.pdf";

    private readonly DocumentChunker _chunker = new(ChunkTokenizers.Shared);

    public static TheoryData<string, string, int, int, string> Cases => new()
    {
        { FederalRegister, ChunkStrategies.Hybrid, 512, 0, ChunkTokenizers.Cl100kBase },
        { FederalRegister, ChunkStrategies.Hybrid, 64, 16, ChunkTokenizers.Cl100kBase },
        { FederalRegister, ChunkStrategies.Hierarchical, 48, 0, ChunkTokenizers.O200kBase },
        { BackgroundChecks, ChunkStrategies.Hybrid, 128, 0, ChunkTokenizers.Cl100kBase },
        { BackgroundChecks, ChunkStrategies.Hybrid, 32, 8, ChunkTokenizers.O200kBase },
        { LatexOutline, ChunkStrategies.Hybrid, 96, 24, ChunkTokenizers.Cl100kBase },
        { "source.md", ChunkStrategies.Hybrid, 16, 0, ChunkTokenizers.Cl100kBase },
    };

    [Theory]
    [Trait("Req", "OUT-3")]
    [MemberData(nameof(Cases))]
    public async Task Chunks_stay_within_maxTokens_and_cover_every_word_of_the_Markdown(string file, string strategy, int maxTokens, int overlap, string tokenizer)
    {
        var run = await corpus.RunAsync(file);
        var request = new ChunkRequest(strategy, maxTokens, overlap, tokenizer);
        var chunks = _chunker.Chunk(run.Result, request).ToList();
        var counter = TiktokenTokenizer.CreateForEncoding(tokenizer);

        Assert.NotEmpty(chunks);
        foreach (var chunk in chunks)
        {
            var counted = counter.CountTokens(chunk.Text);
            Assert.True(counted <= maxTokens, $"chunk {chunk.Index} has {counted} tokens, over {maxTokens}:\n{chunk.Text}");
            Assert.Equal(counted, chunk.TokenCount);
            Assert.Equal(tokenizer, chunk.Tokenizer);
            Assert.NotEmpty(chunk.BlockIds);
            Assert.NotEmpty(chunk.Pages);
            Assert.All(chunk.Boxes, box => Assert.Contains(box.Page, chunk.Pages));
        }

        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        Assert.Equal(chunks.Count, chunks.Select(c => c.Id).Distinct().Count());

        // Every word of the Markdown rendering (running heads, page markers and picture links aside) is in some chunk,
        // as often as the Markdown has it: the chunks' texts (overlaps left out) and heading paths hold them all.
        var missing = new Dictionary<string, int>(Words(MarkdownProse(run.Markdown)), StringComparer.Ordinal);
        foreach (var word in chunks.SelectMany(c => WordList(c.Text[c.Overlap..]).Concat(c.Headings.SelectMany(WordList))))
        {
            if (missing.TryGetValue(word, out var left))
            {
                missing[word] = left - 1;
            }
        }

        var lost = missing.Where(w => w.Value > 0).Select(w => $"{w.Key} x{w.Value}").ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} words of the Markdown are in no chunk: {string.Join(", ", lost.Take(40))}");
    }

    [Theory]
    [Trait("Req", "OUT-3")]
    [InlineData(BackgroundChecks, 64)]
    [InlineData(BackgroundChecks, 200)]
    [InlineData(FederalRegister, 64)]
    public async Task No_table_row_is_cut_in_two_and_a_split_table_repeats_its_header(string file, int maxTokens)
    {
        var run = await corpus.RunAsync(file);
        var chunks = _chunker.Chunk(run.Result, new ChunkRequest(ChunkStrategies.Hybrid, maxTokens, 0, ChunkTokenizers.Cl100kBase)).ToList();
        var counter = TiktokenTokenizer.CreateForEncoding(ChunkTokenizers.Cl100kBase);
        var lines = chunks.SelectMany(c => c.Text.Split('\n')).ToHashSet(StringComparer.Ordinal);
        var tables = run.Result.Tables;
        if (file == BackgroundChecks)
        {
            Assert.NotEmpty(tables);
        }

        foreach (var table in tables)
        {
            foreach (var row in BodyRowLines(table).Where(r => counter.CountTokens(r) <= maxTokens))
            {
                Assert.Contains(row, lines);
            }

            // Each part of a split table starts with the column headers, unless a row had to stand alone.
            var headerLine = HeaderLine(table);
            var parts = chunks.Where(c => c.Split == ChunkSplits.Rows && c.BlockIds.Contains(BlockOf(run.Result, table.Id))).ToList();
            if (headerLine is not null && parts.Count > 1 && counter.CountTokens(headerLine) <= maxTokens / 4)
            {
                Assert.All(parts, p => Assert.True(p.Text.Split('\n').Contains(headerLine) || counter.CountTokens(headerLine + "\n" + p.Text) > maxTokens, p.Text));
            }
        }
    }

    [Theory]
    [Trait("Req", "OUT-3")]
    [InlineData(ChunkStrategies.Hierarchical)]
    [InlineData(ChunkStrategies.Hybrid)]
    public async Task Heading_paths_follow_the_nested_sections(string strategy)
    {
        var run = await corpus.RunAsync("source.md");
        var chunks = _chunker.Chunk(run.Result, new ChunkRequest(strategy, 512, 0, ChunkTokenizers.Cl100kBase)).ToList();

        string[] Path(string words) => chunks.First(c => c.Text.Contains(words, StringComparison.Ordinal)).Headings.ToArray();

        Assert.Equal(["Harbour Inspection Report"], Path("The quarterly inspection of the northern harbour"));
        Assert.Equal(["Harbour Inspection Report", "Findings"], Path("Divers examined the pier foundations"));
        Assert.Equal(["Harbour Inspection Report", "Findings", "Structural items"], Path("Eastern pilings need sealing"));
        Assert.Equal(["Harbour Inspection Report", "Findings", "Structural items"], Path("Order spare lamp bulbs"));
        Assert.Equal(["Harbour Inspection Report", "Measurements"], Path("North pier | 7.5 | good"));
        Assert.Equal(["Harbour Inspection Report", "Procedure"], Path("measure --site north"));
        Assert.Equal(["Harbour Inspection Report", "Procedure"], Path("The harbour master approved the report on Friday"));
        if (strategy == ChunkStrategies.Hierarchical)
        {
            // One chunk per element: the paragraph of Findings and its list items are apart.
            var findings = chunks.Single(c => c.Text.Contains("Divers examined", StringComparison.Ordinal));
            Assert.DoesNotContain("Breakwater", findings.Text, StringComparison.Ordinal);
            Assert.Null(findings.Split);
        }
        else
        {
            // Small neighbours under one path are merged; never across paths.
            var items = chunks.Single(c => c.Text.Contains("Eastern pilings", StringComparison.Ordinal));
            Assert.Contains("Order spare lamp bulbs", items.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("Divers examined", items.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task The_same_result_and_options_give_the_same_bytes()
    {
        var run = await corpus.RunAsync(FederalRegister);
        var request = new ChunkRequest(ChunkStrategies.Hybrid, 128, 32, ChunkTokenizers.Cl100kBase);
        var first = await JsonLinesAsync(_chunker.Chunk(Reparse(run), request));
        var second = await JsonLinesAsync(new DocumentChunker(new ChunkTokenizers()).Chunk(Reparse(run), request));

        Assert.True(first.Length > 1000);
        Assert.Equal(first, second);

        // Another request gives other ids, and each line parses back to its chunk.
        var other = await JsonLinesAsync(_chunker.Chunk(Reparse(run), request with { MaxTokens = 256 }));
        var firstIds = Encoding.UTF8.GetString(first).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => ChunkJsonLines.Parse(l).Id).ToHashSet();
        Assert.DoesNotContain(Encoding.UTF8.GetString(other).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => ChunkJsonLines.Parse(l).Id), firstIds.Contains);
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public async Task Consecutive_chunks_of_one_section_overlap_by_at_most_overlapTokens()
    {
        var run = await corpus.RunAsync(FederalRegister);
        var chunks = _chunker.Chunk(run.Result, new ChunkRequest(ChunkStrategies.Hybrid, 96, 24, ChunkTokenizers.Cl100kBase)).ToList();
        var counter = TiktokenTokenizer.CreateForEncoding(ChunkTokenizers.Cl100kBase);

        var overlapping = chunks.Where(c => c.Overlap > 0).ToList();
        Assert.NotEmpty(overlapping);
        foreach (var chunk in overlapping)
        {
            var previous = chunks[chunk.Index - 1];
            Assert.Equal(previous.Headings, chunk.Headings);
            var repeated = chunk.Text[..chunk.Overlap].TrimEnd('\n');
            Assert.EndsWith(repeated, previous.Text, StringComparison.Ordinal);
            Assert.True(counter.CountTokens(repeated) <= 24, repeated);
        }
    }

    [Fact]
    [Trait("Req", "OUT-3")]
    public void A_sentence_or_row_longer_than_maxTokens_is_cut_by_tokens_as_a_last_resort_and_says_so()
    {
        // One sentence of 300 words without a stop, one table row of 200 numbers, and a run of emoji without a space.
        var box = new BoundingBox(0, 0, 100, 100);
        var sentence = string.Join(' ', Enumerable.Range(1, 300).Select(i => $"word{i}"));
        var row = string.Join(' ', Enumerable.Range(1, 200).Select(i => i * 7919));
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 120));
        var result = new DocumentResult
        {
            DocumentId = "d1",
            FileName = "long.pdf",
            PageCount = 1,
            Pages = [new ResultPage(1, 100, 100, [
                new ResultBlock("p1-b1", 1, BlockRoles.Paragraph, sentence, box),
                new ResultBlock("p1-b2", 1, BlockRoles.Table, "", box) { TableId = "p1-t1" },
                new ResultBlock("p1-b3", 1, BlockRoles.Paragraph, emoji, box)])],
            ReadingOrder = ["p1-b1", "p1-b2", "p1-b3"],
            Tables = [new ResultTable("p1-t1", 1, box, 2, 2, [new(0, 0, "Key"), new(0, 1, "Values"), new(1, 0, "numbers"), new(1, 1, row)]) { HeaderRows = 1 }],
            Stages = [],
        };
        var counter = TiktokenTokenizer.CreateForEncoding(ChunkTokenizers.Cl100kBase);

        foreach (var overlap in (int[])[0, 8])
        {
            var chunks = _chunker.Chunk(result, new ChunkRequest(ChunkStrategies.Hybrid, 16, overlap, ChunkTokenizers.Cl100kBase)).ToList();
            Assert.All(chunks, c => Assert.True(counter.CountTokens(c.Text) <= 16, c.Text));
            Assert.Contains(chunks, c => c.Split == ChunkSplits.Tokens && c.BlockIds.SequenceEqual(["p1-b1"]));
            Assert.Contains(chunks, c => c.Split == ChunkSplits.Tokens && c.BlockIds.SequenceEqual(["p1-b2"]));

            // Words stay whole when white space allows: every word of the sentence is in one chunk.
            var words = chunks.SelectMany(c => c.Text[c.Overlap..].Split(' ', '\n')).ToHashSet(StringComparer.Ordinal);
            Assert.All(sentence.Split(' '), w => Assert.Contains(w, words));
            Assert.Equal(emoji, string.Concat(chunks.Where(c => c.BlockIds.SequenceEqual(["p1-b3"])).Select(c => c.Text[c.Overlap..].Trim())));
        }
    }

    private static DocumentResult Reparse(StagePipeline.Run run) =>
        System.Text.Json.JsonSerializer.Deserialize<DocumentResult>(run.Submission.Json, DocumentResult.JsonOptions)!;

    private static async Task<byte[]> JsonLinesAsync(IEnumerable<DocumentChunk> chunks)
    {
        using var buffer = new MemoryStream();
        await ChunkJsonLines.WriteAsync(chunks, buffer, CancellationToken.None);
        return buffer.ToArray();
    }

    private static string BlockOf(DocumentResult result, string tableId) =>
        result.Pages.SelectMany(p => p.Blocks).First(b => b.TableId == tableId).Id;

    /// <summary>The rows below the header as lines, cells joined by " | ", a spanning cell at its top-left position only.</summary>
    private static IEnumerable<string> BodyRowLines(ResultTable table) =>
        Enumerable.Range(table.HeaderRows ?? 0, Math.Max(0, table.RowCount - (table.HeaderRows ?? 0))).Select(r => string.Join(" | ",
            Enumerable.Range(0, table.ColumnCount).Select(c => table.Cells.FirstOrDefault(cell => cell.Row == r && cell.Column == c) is { } cell ? OneLine(cell.Text) : "")));

    /// <summary>The column headers as one line (each column: the header texts covering it, top down), title rows aside; null without headers.</summary>
    private static string? HeaderLine(ResultTable table)
    {
        var headerRows = table.HeaderRows ?? 0;
        var titles = 0;
        while (titles < headerRows && table.Cells.Where(c => c.Row == titles).ToList() is [var only] && only.ColumnSpan >= table.ColumnCount)
        {
            titles++;
        }

        return headerRows <= titles ? null : string.Join(" | ", Enumerable.Range(0, table.ColumnCount).Select(column => string.Join(' ',
            table.Cells.Where(c => c.Row < headerRows && c.Row + c.RowSpan > titles && c.Column <= column && column < c.Column + c.ColumnSpan)
                .OrderBy(c => c.Row).Select(c => OneLine(c.Text)).Where(t => t.Length > 0))));
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The Markdown less what is no text of the document: comments (page markers, running heads) and picture links without a description.</summary>
    private static string MarkdownProse(string markdown)
    {
        var prose = HtmlComment().Replace(markdown, " ");
        prose = PictureWithoutDescription().Replace(prose, " ");
        prose = ListMarker().Replace(prose, " ");
        return ImageTarget().Replace(prose, "]");
    }

    private static Dictionary<string, int> Words(string text) =>
        WordList(text).GroupBy(w => w, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private static IEnumerable<string> WordList(string text) => WordPattern().Matches(text).Select(m => m.Value.ToLowerInvariant());

    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex HtmlComment();

    [GeneratedRegex(@"!\[Picture p[0-9]+-pic[0-9]+\]\([^)]*\)")]
    private static partial Regex PictureWithoutDescription();

    [GeneratedRegex(@"^[ ]*[0-9]+\. ", RegexOptions.Multiline)]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"\]\([^)]*\)")]
    private static partial Regex ImageTarget();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();
}
