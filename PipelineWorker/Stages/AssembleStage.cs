using System.Globalization;
using System.Text;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// assemble: groups each page's words into blocks (role <c>paragraph</c> until the layout stage exists), orders
/// them top-to-bottom, and renders the result as <see cref="DocumentResult"/> JSON, Markdown (a
/// <c>&lt;!-- page N --&gt;</c> line per page, blocks as paragraphs) and plain text (pages separated by form feeds).
/// Its checkpoint is the finished <see cref="ResultSubmission"/>, so a job interrupted after this stage only
/// has to submit it.
/// </summary>
internal sealed class AssembleStage : IPipelineStage
{
    public const string ParagraphRole = "paragraph";

    public string Name => PipelineStageNames.Assemble;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pages = new List<ResultPage>();
        var readingOrder = new List<string>();
        var markdown = new StringBuilder();
        var text = new StringBuilder();
        var unreadablePages = new List<int>();
        var fallbackPages = new List<int>();

        await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (page.Error is not null)
            {
                unreadablePages.Add(page.Number);
            }

            var layout = TextLayout.Segment(page.Words);
            if (layout.UsedFallback)
            {
                fallbackPages.Add(page.Number);
            }

            var blocks = layout.Blocks
                .Select((b, i) => new ResultBlock(
                    string.Create(CultureInfo.InvariantCulture, $"p{page.Number}-b{i + 1}"),
                    page.Number,
                    ParagraphRole,
                    b.Text,
                    new BoundingBox(Checkpoints.Round(b.Left), Checkpoints.Round(b.Bottom), Checkpoints.Round(b.Right), Checkpoints.Round(b.Top))))
                .ToList();
            pages.Add(new ResultPage(page.Number, page.Width, page.Height, blocks));
            readingOrder.AddRange(blocks.Select(b => b.Id));
            ResultRendering.AppendPage(markdown, text, page.Number, blocks);
        }

        if (pages.Count == 0)
        {
            throw new PipelineFailure(FailureCodes.NoPages, "The extracted document has no pages.");
        }

        var assembleOutcome = fallbackPages.Count == 0
            ? StageResult.Completed
            : StageResult.Degraded($"Block segmentation fell back to simple line grouping on pages {string.Join(", ", fallbackPages.Take(20))}");
        var result = new DocumentResult
        {
            DocumentId = context.DocumentId,
            FileName = context.FileName,
            PageCount = pages.Count,
            Pages = pages,
            ReadingOrder = readingOrder,
            Stages =
            [
                new StageOutcome(PipelineStageNames.Validate, StageOutcome.Ok),
                unreadablePages.Count == 0
                    ? new StageOutcome(PipelineStageNames.Extract, StageOutcome.Ok)
                    : new StageOutcome(PipelineStageNames.Extract, StageOutcome.Degraded, ExtractStage.DescribeFailedPages(unreadablePages, pages.Count)),
                assembleOutcome.Detail is null
                    ? new StageOutcome(PipelineStageNames.Assemble, StageOutcome.Ok)
                    : new StageOutcome(PipelineStageNames.Assemble, StageOutcome.Degraded, assembleOutcome.Detail),
            ],
        };

        var submission = new ResultSubmission(
            JsonSerializer.Serialize(result, DocumentResult.JsonOptions),
            markdown.ToString(),
            text.ToString());
        await Checkpoints.WriteAtomicallyAsync(
            context.CheckpointPath(Name),
            stream => JsonSerializer.SerializeAsync(stream, submission, Checkpoints.JsonOptions, cancellationToken));
        return assembleOutcome;
    }

    public async Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var submission = await ReadSubmissionAsync(context, cancellationToken);
            return submission is { Json.Length: > 0, Markdown: not null, Text: not null }
                && JsonSerializer.Deserialize<DocumentResult>(submission.Json, DocumentResult.JsonOptions) is { PageCount: > 0 };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The result this stage produced (its checkpoint), ready to submit.</summary>
    public static async Task<ResultSubmission> ReadSubmissionAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await Checkpoints.ReadAsync<ResultSubmission>(context.CheckpointPath(PipelineStageNames.Assemble), cancellationToken)
            ?? throw new JsonException("The assemble checkpoint is empty.");
    }
}
