using System.Globalization;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Layout;
using Suite.PipelineWorker.Pdf;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// layout: blocks of each page (PdfPig's Docstrum document layout analysis, see <see cref="TextLayout"/>) built
/// from the text layer, or from the OCR words on pages without one, with roles from <see cref="LayoutRoles"/>.
/// Two streaming passes over the extract checkpoint: typography and repeated margin lines first, then blocks and
/// roles page by page, so memory holds one page's words at a time.
/// Fallback: per page. When the segmenter throws or loses words on a page, that page alone gets simple line
/// grouping (stage <c>degraded</c>); when role assignment fails on a page, its blocks stay paragraphs. Switched off:
/// line grouping and paragraphs everywhere (<c>skipped</c>). Transient: none. Permanent: none.
/// A page that came with its structure (<see cref="ExtractedPage.IsStructured"/>) keeps the file's elements as its
/// blocks (<see cref="StructuredBlocks"/>) instead of being analysed.
/// </summary>
internal sealed class LayoutStage(IOptions<LayoutOptions> options, IOptions<WorkerOptions> worker) : IPipelineStage
{
    public const string TextLayer = "text_layer";
    public const string Ocr = "ocr";
    public const string NoText = "none";

    /// <summary>The page came with its structure: the file's own elements (DOCX, PPTX, HTML, Markdown).</summary>
    public const string Structure = "structure";

    public string Name => PipelineStageNames.Layout;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
        var ocr = (await StageCheckpoint.ReadAsync<OcrCheckpoint>(context, PipelineStageNames.Ocr, cancellationToken)).Pages.ToDictionary(p => p.Page);
        var extract = context.CheckpointPath(PipelineStageNames.Extract);

        LayoutCheckpoint checkpoint;
        if (!o.Enabled)
        {
            checkpoint = await LineGroupingAsync(extract, ocr, StageNote.Skipped("switched off by configuration (Pipeline:Layout:Enabled=false); blocks by simple line grouping, all paragraphs"), cancellationToken);
        }
        else
        {
            try
            {
                checkpoint = await AnalyseAsync(extract, ocr, clock.Token);
            }
            catch (OperationCanceledException) when (clock.Expired)
            {
                // Line grouping is linear and cheap: the document still gets its text, as paragraphs.
                checkpoint = await LineGroupingAsync(extract, ocr, StageNote.Degraded($"analysis stopped at the stage timeout of {clock.Describe()}; blocks by simple line grouping, all paragraphs"), cancellationToken);
            }
        }

        await StageCheckpoint.WriteAsync(context, Name, checkpoint, cancellationToken);
        return checkpoint.Outcome.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<LayoutCheckpoint>(context, Name, c => c.Pages is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    private static (IReadOnlyList<ExtractedWord> Words, string Source) WordsOf(ExtractedPage page, Dictionary<int, OcrPageWords> ocr) =>
        ocr.TryGetValue(page.Number, out var recognised) && recognised.Words.Count > 0
            ? (recognised.Words, Ocr)
            : (page.Words, page.Words.Count > 0 ? TextLayer : NoText);

    private static async Task<LayoutCheckpoint> AnalyseAsync(string extract, Dictionary<int, OcrPageWords> ocr, CancellationToken cancellationToken)
    {
        var typography = new DocumentTypography();
        await foreach (var page in ExtractStage.ReadPagesAsync(extract, cancellationToken))
        {
            if (page.IsStructured)
            {
                continue;
            }

            var (words, source) = WordsOf(page, ocr);
            typography.AddPage(page.Number, page.Height, words, source == Ocr);
        }

        typography.Complete();

        var pages = new List<LayoutPage>();
        var fallbackPages = new List<int>();
        var roleFailures = new List<(int Page, string Error)>();
        var firstTextPage = true;
        await foreach (var page in ExtractStage.ReadPagesAsync(extract, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (page.IsStructured)
            {
                pages.Add(StructuredBlocks.Page(page));
                continue;
            }

            var (words, source) = WordsOf(page, ocr);
            var layout = source == Ocr && ocr[page.Number] is { Lines: { } lines, Paragraphs: { } paragraphs } && lines.Count == words.Count && paragraphs.Count == words.Count
                ? TextLayout.FromParagraphs(words, lines, paragraphs)
                : TextLayout.Segment(words);
            if (layout.UsedFallback)
            {
                fallbackPages.Add(page.Number);
            }

            List<(LayoutBlock Block, string Role, int? Level, double Size)> classified;
            try
            {
                classified = LayoutRoles.Classify(layout.Blocks, page.Width, page.Height, typography, source == Ocr, firstTextPage && layout.Blocks.Count > 0);
            }
            catch (Exception ex) when (PdfOpening.IsParseError(ex))
            {
                roleFailures.Add((page.Number, PdfOpening.Describe(ex)));
                classified = layout.Blocks.Select(b => (b, BlockRoles.Paragraph, (int?)null, 0.0)).ToList();
            }

            firstTextPage &= layout.Blocks.Count == 0;
            pages.Add(new LayoutPage(page.Number, page.Width, page.Height, source, Items(page.Number, classified)));
        }

        var reasons = new List<string>();
        if (fallbackPages.Count > 0)
        {
            reasons.Add($"block segmentation fell back to simple line grouping on pages {StageCheckpoint.Pages(fallbackPages)}");
        }

        if (roleFailures.Count > 0)
        {
            reasons.Add($"roles could not be assigned on pages {StageCheckpoint.Pages(roleFailures.Select(f => f.Page).ToList())} (all paragraphs there): {roleFailures[0].Error}");
        }

        return new LayoutCheckpoint(StageCheckpoint.Version, reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons)), pages);
    }

    private static async Task<LayoutCheckpoint> LineGroupingAsync(string extract, Dictionary<int, OcrPageWords> ocr, StageNote note, CancellationToken cancellationToken)
    {
        var pages = new List<LayoutPage>();
        await foreach (var page in ExtractStage.ReadPagesAsync(extract, cancellationToken))
        {
            if (page.IsStructured)
            {
                // The file's own elements cost nothing to lay out: they stay, whatever the configuration.
                pages.Add(StructuredBlocks.Page(page));
                continue;
            }

            var (words, source) = WordsOf(page, ocr);
            var blocks = TextLayout.Fallback(words).OrderByDescending(b => b.Top).ThenBy(b => b.Left);
            pages.Add(new LayoutPage(page.Number, page.Width, page.Height, source, Items(page.Number, blocks.Select(b => (b, BlockRoles.Paragraph, (int?)null, 0.0)).ToList())));
        }

        return new LayoutCheckpoint(StageCheckpoint.Version, note, pages);
    }

    private static List<LayoutItem> Items(int page, List<(LayoutBlock Block, string Role, int? Level, double Size)> blocks) =>
        blocks.Select((b, i) => new LayoutItem(
            string.Create(CultureInfo.InvariantCulture, $"p{page}-b{i + 1}"),
            b.Role,
            b.Block.Text,
            new BoundingBox(Checkpoints.Round(b.Block.Left), Checkpoints.Round(b.Block.Bottom), Checkpoints.Round(b.Block.Right), Checkpoints.Round(b.Block.Top)),
            b.Size,
            b.Level)).ToList();
}
