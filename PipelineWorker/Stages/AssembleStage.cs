using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Rendering;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// assemble: the result from the checkpoints of all earlier stages. Per page, the layout blocks in reading order,
/// with each table's <c>table</c> block in place of the blocks it covers and <c>picture</c> blocks placed where
/// they sit on the page; tables with cells, pictures with boxes, files and descriptions; page images; and every
/// stage's outcome (ok / degraded / skipped with the reason, DEG-8). Rendered as <see cref="DocumentResult"/> JSON,
/// Markdown and plain text (see <see cref="ResultRendering"/>) and HTML (<see cref="HtmlRendering"/>). Its checkpoint is the finished
/// <see cref="ResultSubmission"/>, so a job interrupted after this stage only has to submit it.
/// Permanent: <c>no_content</c> when nothing at all could be read (no text, no table, no picture on any page): a
/// document never completes empty.
/// </summary>
/// <remarks>
/// Each page also says which extractor read it (pdfpig, poppler, ocr); the document's form fields follow the pages, in
/// Markdown and text too (<see cref="FormFieldRendering"/>).
/// </remarks>
internal sealed class AssembleStage(IOptions<OcrOptions> ocrOptions) : IPipelineStage
{
    public const string ParagraphRole = BlockRoles.Paragraph;
    private const string SchemaVersionProperty = "schemaVersion";
    private const string PageCountProperty = "pageCount";
    private const string RenderingsProperty = "renderings";

    /// <summary>
    /// How many renderings the checkpoint holds: 4 since HTML. A checkpoint of the version before (three, and no such
    /// header property) is not used: assemble runs again, so a resumed job submits HTML too.
    /// </summary>
    private const int RenderingCount = 4;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Name => PipelineStageNames.Assemble;

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var layout = await StageCheckpoint.ReadAsync<LayoutCheckpoint>(context, PipelineStageNames.Layout, cancellationToken);
        var readingOrderCheckpoint = await StageCheckpoint.ReadAsync<ReadingOrderCheckpoint>(context, PipelineStageNames.ReadingOrder, cancellationToken);
        var order = readingOrderCheckpoint.Pages.ToDictionary(p => p.Page);
        var tables = await StageCheckpoint.ReadAsync<TablesCheckpoint>(context, PipelineStageNames.Tables, cancellationToken);
        var pictures = await StageCheckpoint.ReadAsync<PicturesCheckpoint>(context, PipelineStageNames.Pictures, cancellationToken);
        var describe = await StageCheckpoint.ReadAsync<DescribeCheckpoint>(context, PipelineStageNames.Describe, cancellationToken);
        var render = await StageCheckpoint.ReadAsync<RenderCheckpoint>(context, PipelineStageNames.Render, cancellationToken);
        var ocr = await StageCheckpoint.ReadAsync<OcrCheckpoint>(context, PipelineStageNames.Ocr, cancellationToken);

        var unreadablePages = new List<int>();
        var popplerPages = new List<(int Page, string Reason)>();
        var extractors = new Dictionary<int, string?>();
        var formFields = new List<ResultFormField>();
        await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), cancellationToken))
        {
            extractors[page.Number] = page.Extractor;
            if (page.Error is not null)
            {
                unreadablePages.Add(page.Number);
            }
            else if (page.Extractor == PageExtractors.Poppler)
            {
                popplerPages.Add((page.Number, page.FallbackReason ?? ""));
            }

            formFields.AddRange((page.FormFields ?? []).Select(f => new ResultFormField(f.Name, f.Value, f.Type) { PageNumber = f.Page }));
        }

        var format = await ValidateStage.FormatAsync(context, cancellationToken);
        var picturePaths = pictures.Pictures.Where(p => p.Path is not null).ToDictionary(p => p.Id, p => p.Path!, StringComparer.Ordinal);
        var images = render.Pages.ToDictionary(p => p.Page);
        var resultTables = tables.Tables.Select(t => t.Table).ToList();
        var resultPictures = pictures.Pictures.Select(p => new ResultPicture(p.Id, p.Page, p.Box)
        {
            // images=embedded: the file itself, in the JSON and so in every rendering that shows the picture.
            Url = p.DataUri ?? (p.Stored ? ArtifactRoutes.Picture(context.DocumentId, p.Id) : null),
            ContentType = p.Stored || p.DataUri is not null ? p.ContentType : null,
            WidthPx = p.WidthPx,
            HeightPx = p.HeightPx,
            Description = describe.Descriptions.GetValueOrDefault(p.Id),
            AltText = p.AltText,
            Reference = p.Reference,
        }).ToList();
        var tablesById = resultTables.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var picturesById = resultPictures.ToDictionary(p => p.Id, StringComparer.Ordinal);

        // Markdown and text go to files page by page, and the result JSON is serialized straight to a file, so no
        // rendering of the whole document is ever held as one string (PERF-5).
        var scratch = context.ScratchDirectory(Name);
        var files = new SubmissionFiles(
            Path.Combine(scratch, "result.json"), Path.Combine(scratch, "result.md"), Path.Combine(scratch, "result.txt"), Path.Combine(scratch, "result.html"));
        var pages = new List<ResultPage>();
        var readingOrder = new List<string>();
        await using (var markdownFile = new StreamWriter(files.Markdown, append: false, Utf8))
        await using (var textFile = new StreamWriter(files.Text, append: false, Utf8))
        await using (var htmlFile = new StreamWriter(files.Html, append: false, Utf8))
        {
            var markdown = new StringBuilder();
            var text = new StringBuilder();
            var html = new StringBuilder();
            foreach (var page in layout.Pages)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var blocks = PageBlocks(
                    page,
                    order.TryGetValue(page.Page, out var pageOrder) ? pageOrder.BlockIds : [],
                    tables.Tables.Where(t => t.Table.PageNumber == page.Page).ToList(),
                    resultPictures.Where(p => p.PageNumber == page.Page).ToList(),
                    format,
                    picturePaths);
                pages.Add(new ResultPage(page.Page, page.Width, page.Height, blocks)
                {
                    TextSource = page.TextSource,
                    Extractor = page.TextSource == LayoutStage.Ocr ? PageExtractors.Ocr : extractors.GetValueOrDefault(page.Page),
                    Image = images.TryGetValue(page.Page, out var image)
                        ? new PageImage(ArtifactRoutes.PageImage(context.DocumentId, page.Page), image.WidthPx, image.HeightPx, image.Dpi)
                        : null,
                });
                readingOrder.AddRange(blocks.Select(b => b.Id));
                ResultRendering.AppendPage(markdown, text, pages.Count == 1, page.Page, blocks, tablesById, picturesById);
                if (pages.Count == 1)
                {
                    HtmlRendering.AppendDocumentStart(html, HtmlRendering.Title(context.FileName, blocks));
                }

                HtmlRendering.AppendPage(html, page.Page, blocks, tablesById, picturesById);
                await markdownFile.WriteAsync(markdown, cancellationToken);
                await textFile.WriteAsync(text, cancellationToken);
                await htmlFile.WriteAsync(html, cancellationToken);
                markdown.Clear();
                text.Clear();
                html.Clear();
            }

            FormFieldRendering.Append(markdown, text, formFields);
            if (pages.Count > 0)
            {
                FormFieldRendering.AppendHtml(html, formFields);
                HtmlRendering.AppendDocumentEnd(html);
                await htmlFile.WriteAsync(html, cancellationToken);
            }

            await markdownFile.WriteAsync(markdown, cancellationToken);
            await textFile.WriteAsync(text, cancellationToken);
        }

        if (pages.Count == 0)
        {
            throw new PipelineFailure(FailureCodes.NoPages, "The extracted document has no pages.");
        }

        if (pages.All(p => p.Blocks.Count == 0))
        {
            var why = ocr.Outcome.Detail is { Length: > 0 } ocrDetail ? $" (OCR: {ocrDetail})" : "";
            throw new PipelineFailure(
                FailureCodes.NoContent,
                $"Nothing could be read from the document: none of its {pages.Count} pages has text, a text layer or OCR, or a picture{why}. " +
                "If it is a scan, check that it is not blank; otherwise repair or re-export the file and upload it again.");
        }

        var result = new DocumentResult
        {
            DocumentId = context.DocumentId,
            FileName = context.FileName,
            Format = format,
            PageCount = pages.Count,
            Options = context.Options with { OcrLanguages = OcrStage.Languages(context, ocrOptions.Value) },
            Pages = pages,
            ReadingOrder = readingOrder,
            Tables = resultTables,
            Pictures = resultPictures,
            FormFields = formFields,
            Stages =
            [
                new StageOutcome(PipelineStageNames.Validate, StageOutcome.Ok),
                ExtractStage.DescribeOutcome(unreadablePages, popplerPages, pages.Count) is { } extractReason
                    ? new StageOutcome(PipelineStageNames.Extract, StageOutcome.Degraded, extractReason)
                    : new StageOutcome(PipelineStageNames.Extract, StageOutcome.Ok),
                render.Outcome.ToOutcome(PipelineStageNames.Render),
                ocr.Outcome.ToOutcome(PipelineStageNames.Ocr),
                layout.Outcome.ToOutcome(PipelineStageNames.Layout),
                readingOrderCheckpoint.Outcome.ToOutcome(PipelineStageNames.ReadingOrder),
                tables.Outcome.ToOutcome(PipelineStageNames.Tables),
                pictures.Outcome.ToOutcome(PipelineStageNames.Pictures),
                describe.Outcome.ToOutcome(PipelineStageNames.Describe),
                new StageOutcome(PipelineStageNames.Assemble, StageOutcome.Ok),
            ],
        };

        await using (var json = new FileStream(files.Json, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await JsonSerializer.SerializeAsync(json, result, DocumentResult.JsonOptions, cancellationToken);
        }

        await WriteSubmissionAsync(context.CheckpointPath(Name), pages.Count, files, cancellationToken);
        foreach (var file in new[] { files.Json, files.Markdown, files.Text, files.Html })
        {
            File.Delete(file);
        }

        return StageResult.Completed;
    }

    public async Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = await ReadSubmissionHeaderAsync(context.CheckpointPath(Name), cancellationToken);
        return header is { SchemaVersion: DocumentResult.CurrentSchemaVersion, PageCount: > 0, Renderings: RenderingCount };
    }

    /// <summary>
    /// The checkpoint file, which is the body IngestService takes for the result as it is: streamed, never loaded.
    /// </summary>
    public static string SubmissionPath(StageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.CheckpointPath(PipelineStageNames.Assemble);
    }

    /// <summary>The result this stage produced (its checkpoint), ready to submit.</summary>
    public static async Task<ResultSubmission> ReadSubmissionAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await Checkpoints.ReadAsync<ResultSubmission>(context.CheckpointPath(PipelineStageNames.Assemble), cancellationToken)
            ?? throw new JsonException("The assemble checkpoint is empty.");
    }

    /// <summary>
    /// Writes the checkpoint: the <see cref="ResultSubmission"/> body ({"json","markdown","text","html"}) after three
    /// header properties ("schemaVersion", "pageCount", "renderings") that IngestService ignores and a resume reads
    /// without parsing the rest.
    /// Each rendering is copied from its file into its JSON string in segments, so memory does not grow with the result.
    /// </summary>
    private static async Task WriteSubmissionAsync(string path, int pageCount, SubmissionFiles files, CancellationToken cancellationToken)
    {
        await Checkpoints.WriteAtomicallyAsync(path, async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartObject();
            writer.WriteNumber(SchemaVersionProperty, DocumentResult.CurrentSchemaVersion);
            writer.WriteNumber(PageCountProperty, pageCount);
            writer.WriteNumber(RenderingsProperty, RenderingCount);
            foreach (var (name, file) in new[] { ("json", files.Json), ("markdown", files.Markdown), ("text", files.Text), ("html", files.Html) })
            {
                writer.WritePropertyName(name);
                using var reader = new StreamReader(file, Utf8);
                var buffer = new char[16 * 1024];
                var held = 0;
                while (true)
                {
                    var read = await reader.ReadAsync(buffer.AsMemory(held), cancellationToken);
                    var available = held + read;
                    var final = read == 0;
                    // A surrogate pair is never split between two segments.
                    var count = !final && available > 0 && char.IsHighSurrogate(buffer[available - 1]) ? available - 1 : available;
                    writer.WriteStringValueSegment(buffer.AsSpan(0, count), final);
                    held = available - count;
                    if (held > 0)
                    {
                        buffer[0] = buffer[available - 1];
                    }

                    await writer.FlushAsync(cancellationToken);
                    if (final)
                    {
                        break;
                    }
                }
            }

            writer.WriteEndObject();
            await writer.FlushAsync(cancellationToken);
        });
    }

    /// <summary>The checkpoint's header properties, read from its first bytes; null when it has none (or no file).</summary>
    internal static async Task<SubmissionHeader?> ReadSubmissionHeaderAsync(string path, CancellationToken cancellationToken)
    {
        byte[] head;
        try
        {
            await using var file = File.OpenRead(path);
            head = new byte[Math.Min(256, file.Length)];
            await file.ReadExactlyAsync(head, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(head, isFinalBlock: false, state: default);
            int? schema = null, pageCount = null, renderings = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (schema is null || pageCount is null || renderings is null)
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
                {
                    return null;
                }

                var name = reader.GetString();
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value))
                {
                    return null;
                }

                switch (name)
                {
                    case SchemaVersionProperty:
                        schema = value;
                        break;
                    case PageCountProperty:
                        pageCount = value;
                        break;
                    case RenderingsProperty:
                        renderings = value;
                        break;
                    default:
                        return null;
                }
            }

            return new SubmissionHeader(schema.Value, pageCount.Value, renderings.Value);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One page's blocks in reading order, tables in place of the blocks they cover, pictures where they sit.</summary>
    internal static List<ResultBlock> PageBlocks(
        LayoutPage page,
        IReadOnlyList<string> orderIds,
        IReadOnlyList<DetectedTable> tables,
        IReadOnlyList<ResultPicture> pictures,
        string format = DocumentFormats.Pdf,
        IReadOnlyDictionary<string, string>? picturePaths = null)
    {
        var items = page.Blocks.ToDictionary(b => b.Id, StringComparer.Ordinal);
        var ids = orderIds.Where(items.ContainsKey).Concat(page.Blocks.Select(b => b.Id).Where(id => !orderIds.Contains(id))).ToList();
        var coveredBy = new Dictionary<string, DetectedTable>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            foreach (var id in table.Covers)
            {
                coveredBy.TryAdd(id, table);
            }
        }

        var sequence = new List<ResultBlock>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (coveredBy.TryGetValue(id, out var table))
            {
                if (placed.Add(table.Table.Id))
                {
                    sequence.Add(TableBlock(table.Table) with { Provenance = Provenance(format, page.Page, items.GetValueOrDefault(id)?.Path) });
                }

                continue;
            }

            var item = items[id];
            sequence.Add(new ResultBlock(id, page.Page, item.Role, item.Text, item.Box) { Level = item.Level, ListDepth = item.ListDepth, ListOrdered = item.Ordered, Provenance = Provenance(format, page.Page, item.Path) });
        }

        // Nominal boxes of structured pages are stacked closely: a picture goes before the next element's slot.
        var tolerance = page.Structured ? 0.001 : 1;
        foreach (var table in tables.Where(t => !placed.Contains(t.Table.Id)))
        {
            Insert(sequence, TableBlock(table.Table) with { Provenance = Provenance(format, page.Page, null) }, tolerance);
        }

        foreach (var picture in pictures)
        {
            var text = picture.Description ?? picture.AltText ?? "";
            Insert(sequence, new ResultBlock(picture.Id, picture.PageNumber, BlockRoles.Picture, text, picture.BoundingBox)
            {
                PictureId = picture.Id,
                Provenance = Provenance(format, page.Page, picturePaths?.GetValueOrDefault(picture.Id)),
            }, tolerance);
        }

        return sequence;
    }

    /// <summary>Where a block came from: the page of a PDF or image, the slide of a PPTX, and the element path where the file has elements.</summary>
    internal static BlockProvenance Provenance(string format, int page, string? path) => format switch
    {
        DocumentFormats.Pptx => new BlockProvenance(Slide: page, Path: path),
        _ => new BlockProvenance(Page: page, Path: path),
    };

    private static ResultBlock TableBlock(ResultTable table) =>
        new(table.Id, table.PageNumber, BlockRoles.Table, ResultRendering.TableText(table), table.BoundingBox) { TableId = table.Id };

    /// <summary>Before the first body block that starts below the new block's top and overlaps it horizontally.</summary>
    private static void Insert(List<ResultBlock> sequence, ResultBlock block, double tolerance)
    {
        var box = block.BoundingBox;
        var index = sequence.FindIndex(b =>
            b.Role != BlockRoles.PageHeader
            && (b.Role == BlockRoles.PageFooter
                || (b.BoundingBox.Top < box.Top - tolerance && b.BoundingBox.Left < box.Right && box.Left < b.BoundingBox.Right)));
        sequence.Insert(index < 0 ? sequence.Count : index, block);
    }
}

/// <summary>The renderings of the result while assemble writes them, before they go into the checkpoint.</summary>
internal sealed record SubmissionFiles(string Json, string Markdown, string Text, string Html);

/// <summary>What the assemble checkpoint says of itself before its body: the result's schema version, page count and number of renderings.</summary>
internal sealed record SubmissionHeader(int SchemaVersion, int PageCount, int Renderings);
