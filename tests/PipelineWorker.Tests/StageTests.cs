using System.Text.Json;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>The whole pipeline in-process on real corpus files: text checked against pdftotext, input errors by code.</summary>
public sealed class StageTests : IDisposable
{
    // OCR is capped at 3 pages per document here: qpdf__leading-junk has 30 scanned pages and OCR is tested elsewhere.
    private readonly PipelineHost _host = new(new Dictionary<string, string?> { ["Pipeline:Ocr:MaxPages"] = "3" });

    public void Dispose() => _host.Dispose();

    [Theory]
    [InlineData("sf__minimal-document.pdf", 1)]
    [InlineData("sf__pdflatex-4-pages.pdf", 4)]
    [InlineData("sf__multicolumn.pdf", 3)]
    [InlineData("pdfplumber__federal-register-2020-17221.pdf", 15)]
    [InlineData("sf__GeoTopo-komprimiert.pdf", 117)]
    public async Task Text_documents_produce_markdown_with_the_words_pdftotext_finds(string file, int pages)
    {
        var path = RepoPaths.CorpusFile(file);

        var submission = await _host.RunAsync(path);

        var reference = await PdfText.ExtractAsync(path);
        var recall = PdfText.Recall(reference, submission.Markdown);
        Assert.True(recall >= 0.95, $"Markdown word recall vs pdftotext is {recall:P1} for {file}");
        Assert.True(PdfText.Recall(reference, submission.Text) >= 0.95, $"plain text recall too low for {file}");

        var result = JsonSerializer.Deserialize<DocumentResult>(submission.Json, DocumentResult.JsonOptions);
        Assert.NotNull(result);
        Assert.Equal(pages, result.PageCount);
        Assert.Equal(Enumerable.Range(1, pages), result.Pages.Select(p => p.PageNumber));
        Assert.All(result.Pages, p => Assert.All(p.Blocks, b => Assert.Equal(p.PageNumber, b.PageNumber)));
        Assert.All(result.Pages, p => Assert.True(p.Width > 0 && p.Height > 0));
        Assert.Equal(result.Pages.SelectMany(p => p.Blocks).Select(b => b.Id), result.ReadingOrder);
        Assert.Equal(PipelineStageNames.All, result.Stages.Select(s => s.Name));
        // Every stage ran cleanly; describe is off because no vision endpoint is configured here.
        Assert.All(result.Stages.Where(s => s.Name != PipelineStageNames.Describe), s => Assert.True(s.Outcome == StageOutcome.Ok, $"{s.Name}: {s.Outcome} {s.Reason}"));
        Assert.Equal(StageOutcome.Skipped, result.Stages.Single(s => s.Name == PipelineStageNames.Describe).Outcome);
        Assert.All(result.Pages.SelectMany(p => p.Blocks), b => Assert.Contains(b.Role, BlockRoles.All));
        Assert.All(result.Pages, p => Assert.Equal("text_layer", p.TextSource));

        // One section per page, in order, each opened by its page comment.
        for (var n = 1; n <= pages; n++)
        {
            Assert.Contains($"<!-- page {n} -->\n", submission.Markdown, StringComparison.Ordinal);
        }

        Assert.Equal(pages - 1, submission.Text.Count(c => c == '\f'));
    }

    [Fact]
    public async Task Blocks_have_boxes_inside_their_page_and_a_single_column_reads_top_to_bottom()
    {
        var submission = await _host.RunAsync(RepoPaths.CorpusFile("sf__pdflatex-4-pages.pdf"));
        var result = JsonSerializer.Deserialize<DocumentResult>(submission.Json, DocumentResult.JsonOptions)!;

        foreach (var page in result.Pages)
        {
            Assert.NotEmpty(page.Blocks);
            foreach (var block in page.Blocks)
            {
                Assert.False(string.IsNullOrWhiteSpace(block.Text));
                Assert.InRange(block.BoundingBox.Left, -1, page.Width + 1);
                Assert.InRange(block.BoundingBox.Top, -1, page.Height + 1);
                Assert.True(block.BoundingBox.Right >= block.BoundingBox.Left && block.BoundingBox.Top >= block.BoundingBox.Bottom);
            }

            var tops = page.Blocks.Select(b => Math.Round(b.BoundingBox.Top, 1)).ToList();
            Assert.Equal(tops.OrderByDescending(t => t), tops);
            // The page number at the foot of each page is furniture, not body text.
            Assert.Equal(BlockRoles.PageFooter, page.Blocks[^1].Role);
            Assert.Equal(page.PageNumber.ToString(System.Globalization.CultureInfo.InvariantCulture), page.Blocks[^1].Text);
        }
    }

    [Theory]
    [Trait("Req", "IN-4")]
    [InlineData("pypdf__r2-user-password.pdf")]
    [InlineData("pypdf__r4-aes-user-password.pdf")]
    [InlineData("pypdf__r6-user-password.pdf")] // owner password empty: PdfPig opens it, our user-password check refuses it
    [InlineData("sf__libreoffice-writer-password.pdf")]
    public async Task Password_protected_pdfs_fail_as_encrypted(string file)
    {
        var failure = await _host.FailureOfAsync(file);

        Assert.Equal(FailureCodes.Encrypted, failure.Code);
        Assert.Equal(PipelineStageNames.Validate, failure.Stage);
        Assert.Contains("password", failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [Trait("Req", "IN-4")]
    [InlineData("pypdf__r3-empty-password.pdf")]
    [InlineData("pypdf__r5-owner-password.pdf")]
    [InlineData("qpdf__leading-junk.pdf")]
    public async Task Encrypted_pdfs_with_an_empty_user_password_are_processed(string file)
    {
        var path = RepoPaths.CorpusFile(file);

        var submission = await _host.RunAsync(path);

        Assert.True(PdfText.Recall(await PdfText.ExtractAsync(path), submission.Markdown) >= 0.9);
    }

    [Theory]
    [Trait("Req", "IN-3")]
    [InlineData("ocrmypdf__invalid.pdf", FailureCodes.CorruptStructure)] // header and %%EOF only: no xref, no objects
    public async Task Structurally_broken_pdfs_fail_with_a_specific_code(string file, string code)
    {
        var failure = await _host.FailureOfAsync(file);

        Assert.Equal(code, failure.Code);
        Assert.Equal(PipelineStageNames.Validate, failure.Stage);
    }

    [Theory]
    [Trait("Req", "IN-3")]
    [InlineData("qpdf__bad2.pdf", "Potato")] // no startxref: PdfPig rebuilds the xref by scanning
    [InlineData("qpdf__bad3.pdf", "Potato")] // bad xref offset
    [InlineData("qpdf__bad22.pdf", "Potato")] // stream without /Length
    [InlineData("qpdf__damaged-stream.pdf", "Potato")] // damaged compressed stream
    public async Task Damaged_pdfs_that_pdfpig_recovers_are_processed_with_their_text(string file, string word)
    {
        var submission = await _host.RunAsync(RepoPaths.CorpusFile(file));

        Assert.Contains(word, submission.Markdown, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task Damaged_linearized_file_from_which_nothing_can_be_read_fails_as_no_content_instead_of_completing_empty()
    {
        // Poppler sees 4 pages of 0x0 pt; PdfPig recovers one page with no text and no image, and OCR finds nothing.
        var failure = await _host.FailureOfAsync("sf__unreadablemetadata.pdf");

        Assert.Equal(FailureCodes.NoContent, failure.Code);
        Assert.Equal(PipelineStageNames.Assemble, failure.Stage);
        Assert.Contains("Nothing could be read", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task Zero_byte_file_fails_as_empty_file()
    {
        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => _host.RunAsync([], "empty.pdf"));

        Assert.Equal(FailureCodes.EmptyFile, failure.Code);
    }

    [Fact]
    [Trait("Req", "IN-3")]
    [Trait("Req", "IN-1")]
    public async Task Random_bytes_fail_as_unsupported_format()
    {
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => _host.RunAsync(bytes, "random.pdf"));

        Assert.Equal(FailureCodes.UnsupportedFormat, failure.Code);
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task Random_bytes_after_a_pdf_header_fail_as_corrupt_structure()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        "%PDF-1.7\n"u8.CopyTo(bytes);

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => _host.RunAsync(bytes, "garbage.pdf"));

        Assert.Equal(FailureCodes.CorruptStructure, failure.Code);
    }

    [Theory]
    [Trait("Req", "IN-3")]
    [InlineData("sf__pdflatex-4-pages.pdf")]
    [InlineData("pdfplumber__federal-register-2020-17221.pdf")]
    [InlineData("sf__multicolumn.pdf")]
    public async Task Truncated_pdfs_end_with_a_result_or_a_specific_code(string file)
    {
        var bytes = await File.ReadAllBytesAsync(RepoPaths.CorpusFile(file));
        foreach (var fraction in new[] { 0.1, 0.5, 0.9 })
        {
            var truncated = bytes[..(int)(bytes.Length * fraction)];
            try
            {
                var submission = await _host.RunAsync(truncated, file);
                Assert.NotNull(JsonSerializer.Deserialize<DocumentResult>(submission.Json, DocumentResult.JsonOptions));
            }
            catch (PipelineFailure failure)
            {
                Assert.Contains(failure.Code, new[] { FailureCodes.Truncated, FailureCodes.CorruptStructure, FailureCodes.NoPages, FailureCodes.NoReadablePages, FailureCodes.NoContent });
            }
        }
    }

    [Fact]
    [Trait("Req", "IN-3")]
    public async Task A_pdf_cut_short_whose_structure_cannot_be_read_fails_as_truncated()
    {
        // The header and the first objects, without xref, trailer or %%EOF: what an interrupted transfer leaves.
        var bytes = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => _host.RunAsync(bytes[..600], "cut.pdf"));

        Assert.Equal(FailureCodes.Truncated, failure.Code);
        Assert.Contains("%%EOF", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "IN-5")]
    public async Task Size_limit_is_configurable_and_enforced_with_too_large()
    {
        using var host = new PipelineHost(new Dictionary<string, string?> { ["Worker:Validate:MaxSizeBytes"] = "10000" });

        var failure = await host.FailureOfAsync("sf__pdflatex-4-pages.pdf");

        Assert.Equal(FailureCodes.TooLarge, failure.Code);
        Assert.Equal(PipelineStageNames.Validate, failure.Stage);
    }

    [Fact]
    [Trait("Req", "IN-5")]
    public async Task Page_limit_is_configurable_and_enforced()
    {
        using var host = new PipelineHost(new Dictionary<string, string?> { ["Worker:Validate:MaxPages"] = "3" });

        var failure = await host.FailureOfAsync("sf__pdflatex-4-pages.pdf");

        Assert.Equal(FailureCodes.TooManyPages, failure.Code);
        Assert.Contains("4 pages", failure.Message, StringComparison.Ordinal);
    }
}
