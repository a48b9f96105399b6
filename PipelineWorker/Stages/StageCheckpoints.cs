using System.Text.Json;
using System.Text.Json.Serialization;
using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// How a stage ended, recorded inside its own checkpoint, so that assemble can list every stage's outcome in the
/// result even when the stage ran on another worker before a resume (DEG-8).
/// </summary>
internal sealed record StageNote(string Status, string? Detail = null)
{
    public static StageNote Completed { get; } = new(StageStatus.Completed);

    public static StageNote Degraded(string reason) => new(StageStatus.Degraded, reason);

    public static StageNote Skipped(string reason) => new(StageStatus.Skipped, reason);

    public StageResult ToResult() => new(Status, Detail);

    /// <summary>The result's vocabulary: ok, degraded, skipped.</summary>
    public StageOutcome ToOutcome(string stage) => new(stage, Status switch
    {
        StageStatus.Degraded => StageOutcome.Degraded,
        StageStatus.Skipped => StageOutcome.Skipped,
        _ => StageOutcome.Ok,
    }, Status == StageStatus.Completed ? null : Detail);
}

/// <summary>render: the page images stored (published) for the document.</summary>
internal sealed record RenderCheckpoint(int Version, StageNote Outcome, IReadOnlyList<RenderedPageInfo> Pages);

internal sealed record RenderedPageInfo(int Page, int WidthPx, int HeightPx, double Dpi);

/// <summary>ocr: the words recognised on pages without a text layer, in PDF points like extracted words.</summary>
internal sealed record OcrCheckpoint(int Version, StageNote Outcome, IReadOnlyList<OcrPageWords> Pages);

/// <remarks>
/// <see cref="Lines"/> and <see cref="Paragraphs"/> run parallel to <see cref="Words"/>: tesseract's line and paragraph
/// of each word, so layout can keep the structure OCR recognised instead of guessing it from uneven word boxes.
/// </remarks>
internal sealed record OcrPageWords(int Page, IReadOnlyList<ExtractedWord> Words, IReadOnlyList<int>? Lines = null, IReadOnlyList<int>? Paragraphs = null);

/// <summary>layout: each page's blocks with their roles.</summary>
internal sealed record LayoutCheckpoint(int Version, StageNote Outcome, IReadOnlyList<LayoutPage> Pages);

/// <summary>
/// A page's blocks; <see cref="TextSource"/> is text_layer, ocr, structure (the file stated its elements) or none.
/// <see cref="Structured"/>: the blocks are the file's own elements in document order, which later stages keep.
/// </summary>
internal sealed record LayoutPage(int Page, double Width, double Height, string TextSource, IReadOnlyList<LayoutItem> Blocks, bool Structured = false);

internal sealed record LayoutItem(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("box")] BoundingBox Box,
    [property: JsonPropertyName("size")] double FontSize,
    [property: JsonPropertyName("level")] int? Level = null,
    [property: JsonPropertyName("list")] int? ListDepth = null,
    [property: JsonPropertyName("path")] string? Path = null,
    [property: JsonPropertyName("ord")] bool? Ordered = null);

/// <summary>reading-order: block ids of each page in reading order.</summary>
internal sealed record ReadingOrderCheckpoint(int Version, StageNote Outcome, IReadOnlyList<PageOrder> Pages);

internal sealed record PageOrder(int Page, IReadOnlyList<string> BlockIds);

/// <summary>tables: the tables found, and the layout blocks each replaces.</summary>
internal sealed record TablesCheckpoint(int Version, StageNote Outcome, IReadOnlyList<DetectedTable> Tables);

internal sealed record DetectedTable(ResultTable Table, IReadOnlyList<string> Covers);

/// <summary>pictures: embedded pictures with boxes and the files stored for them.</summary>
internal sealed record PicturesCheckpoint(int Version, StageNote Outcome, IReadOnlyList<PictureInfo> Pictures);

/// <summary>
/// A picture; <see cref="Stored"/> says whether its file reached the artifact store; <see cref="DataUri"/> is the file
/// itself when the request asked for images=embedded (kept in the checkpoint, so a resumed assemble has it). Pictures of
/// structured documents also keep their alternative text, the reference an unfetched image had, and their element path.
/// </summary>
internal sealed record PictureInfo(string Id, int Page, BoundingBox Box, string? ContentType, int? WidthPx, int? HeightPx, bool Stored, string? DataUri = null)
{
    public string? AltText { get; init; }

    public string? Reference { get; init; }

    public string? Path { get; init; }
}

/// <summary>describe: descriptions by picture id.</summary>
internal sealed record DescribeCheckpoint(int Version, StageNote Outcome, IReadOnlyDictionary<string, string> Descriptions);

/// <summary>Reading and writing the checkpoints of the stages after extract (whole JSON objects, written atomically).</summary>
internal static class StageCheckpoint
{
    public const int Version = 1;

    public static Task WriteAsync<T>(StageContext context, string stage, T checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Checkpoints.WriteAtomicallyAsync(
            context.CheckpointPath(stage),
            stream => JsonSerializer.SerializeAsync(stream, checkpoint, Checkpoints.JsonOptions, cancellationToken));
    }

    /// <summary>The checkpoint of an earlier stage; throws when it is missing or unreadable (a defect: stages run in order).</summary>
    public static async Task<T> ReadAsync<T>(StageContext context, string stage, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        return await Checkpoints.ReadAsync<T>(context.CheckpointPath(stage), cancellationToken)
            ?? throw new JsonException($"The {stage} checkpoint is empty.");
    }

    /// <summary>Whether a downloaded checkpoint parses and has this format version (so the stage may be skipped).</summary>
    public static async Task<bool> IsUsableAsync<T>(StageContext context, string stage, Func<T, int> version, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(version);
        try
        {
            return await Checkpoints.ReadAsync<T>(context.CheckpointPath(stage), cancellationToken) is { } checkpoint && version(checkpoint) == Version;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Page numbers as a short list for messages: "1, 2, 5 and 12 more".</summary>
    public static string Pages(IReadOnlyCollection<int> pages, int shown = 15) =>
        string.Join(", ", pages.Take(shown)) + (pages.Count > shown ? $" and {pages.Count - shown} more" : "");
}
