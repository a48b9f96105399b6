using System.Globalization;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Layout;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Tables;
using UglyToad.PdfPig.Core;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// tables: tables and their cell grids (<see cref="TableDetector"/>) from ruling lines (the page's drawn paths,
/// read with PdfPig page by page) and word alignment (text layer or OCR words). Each table records the layout
/// blocks it replaces; assemble puts a <c>table</c> block in their place.
/// Fallback: a page whose drawing cannot be read is searched by alignment only; a page where detection fails, the
/// stage timeout, or switched off: the text stays as text blocks (<c>degraded</c> / <c>skipped</c>). Transient: none.
/// A page that came with its structure has the tables its file states, with their spans and header rows (detection
/// <c>structure</c>); only a PDF is opened for ruling lines.
/// </summary>
internal sealed class TablesStage(IOptions<TablesOptions> options, IOptions<WorkerOptions> worker) : IPipelineStage
{
    /// <summary>How a table stated by the file itself was found (beside <c>ruling</c> and <c>alignment</c>).</summary>
    public const string Structure = "structure";

    public string Name => PipelineStageNames.Tables;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        StageNote note;
        var tables = new List<DetectedTable>();
        if (!o.Enabled)
        {
            note = StageNote.Skipped("switched off by configuration (Pipeline:Tables:Enabled=false); tables are left as text");
        }
        else if (context.Options.Tables == Switch.Off)
        {
            note = StageNote.Skipped("switched off by the request (tables=off); tables are left as text");
        }
        else
        {
            using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
            note = await DetectAsync(context, tables, clock);
        }

        await StageCheckpoint.WriteAsync(context, Name, new TablesCheckpoint(StageCheckpoint.Version, note, tables), cancellationToken);
        return note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<TablesCheckpoint>(context, Name, c => c.Tables is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    private static async Task<StageNote> DetectAsync(StageContext context, List<DetectedTable> tables, StageClock clock)
    {
        var token = clock.Token;
        var layout = (await StageCheckpoint.ReadAsync<LayoutCheckpoint>(context, PipelineStageNames.Layout, token)).Pages.ToDictionary(p => p.Page);
        var ocr = (await StageCheckpoint.ReadAsync<OcrCheckpoint>(context, PipelineStageNames.Ocr, token)).Pages.ToDictionary(p => p.Page);
        var noRulings = new List<int>();
        var failed = new List<(int Page, string Error)>();
        var timedOut = false;
        UglyToad.PdfPig.PdfDocument? document = null;
        try
        {
            try
            {
                // Ruling lines are drawn only in PDFs; an image's tables come from the alignment of its OCR words.
                if (await ValidateStage.FormatAsync(context, token) == DocumentFormats.Pdf)
                {
                    document = PdfOpening.Open(context.ContentPath);
                }
            }
            catch (PipelineFailure)
            {
                // extract read this file; if it cannot be opened again, tables come from alignment alone.
            }

            await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), token))
            {
                if (page.IsStructured)
                {
                    tables.AddRange(Stated(page));
                    continue;
                }

                var words = ocr.TryGetValue(page.Number, out var recognised) && recognised.Words.Count > 0 ? recognised.Words : page.Words;
                if (words.Count == 0)
                {
                    continue;
                }

                var rulings = new List<Ruling>();
                if (document is not null && recognised is null)
                {
                    try
                    {
                        rulings = ReadRulings(document, page.Number);
                    }
                    catch (Exception ex) when (PdfOpening.IsParseError(ex))
                    {
                        noRulings.Add(page.Number);
                    }
                }

                try
                {
                    var found = TableDetector.Detect(words, rulings);
                    var blocks = layout.TryGetValue(page.Number, out var laid) ? laid.Blocks : [];
                    for (var k = 0; k < found.Count; k++)
                    {
                        var t = found[k];
                        var id = string.Create(CultureInfo.InvariantCulture, $"p{page.Number}-t{k + 1}");
                        var table = new ResultTable(id, page.Number, Rounded(t.Box), t.Rows, t.Columns, t.Cells) { Detection = t.Detection, HeaderRows = t.HeaderRows };
                        tables.Add(new DetectedTable(table, Covered(blocks, t.Box)));
                    }
                }
                catch (Exception ex) when (PdfOpening.IsParseError(ex))
                {
                    failed.Add((page.Number, PdfOpening.Describe(ex)));
                }
            }
        }
        catch (OperationCanceledException) when (clock.Expired)
        {
            timedOut = true;
        }
        finally
        {
            document?.Dispose();
        }

        var reasons = new List<string>();
        if (failed.Count > 0)
        {
            reasons.Add($"table detection failed on pages {StageCheckpoint.Pages(failed.Select(f => f.Page).ToList())}, whose tables are left as text: {failed[0].Error}");
        }

        if (noRulings.Count > 0)
        {
            reasons.Add($"ruling lines could not be read on pages {StageCheckpoint.Pages(noRulings)} (word alignment only)");
        }

        if (timedOut)
        {
            reasons.Add($"stopped at the stage timeout of {clock.Describe()}; later pages were not searched for tables");
        }

        return reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons));
    }

    /// <summary>The tables a structured page states (DOCX, PPTX, HTML, Markdown), each replacing its element's block.</summary>
    private static IEnumerable<DetectedTable> Stated(ExtractedPage page)
    {
        var elements = page.Elements ?? [];
        var k = 0;
        for (var i = 0; i < elements.Count; i++)
        {
            if (elements[i].Table is { } t)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"p{page.Number}-t{++k}");
                var table = new ResultTable(id, page.Number, StructuredBlocks.Box(page, i), t.Rows, t.Columns, t.Cells) { Detection = Structure, HeaderRows = t.HeaderRows };
                yield return new DetectedTable(table, [StructuredBlocks.Id(page.Number, i)]);
            }
        }
    }

    /// <summary>Straight lines and rectangles of the page's drawn (stroked or filled, not clipping) paths.</summary>
    private static List<Ruling> ReadRulings(UglyToad.PdfPig.PdfDocument document, int pageNumber)
    {
        var page = document.GetPage(pageNumber);
        var lines = new List<(double, double, double, double)>();
        var rectangles = new List<(double, double, double, double)>();
        foreach (var path in page.Paths)
        {
            if (path.IsClipping || (!path.IsStroked && !path.IsFilled))
            {
                continue;
            }

            foreach (var subpath in path)
            {
                if (subpath.IsDrawnAsRectangle && subpath.GetBoundingRectangle() is { } r)
                {
                    rectangles.Add((r.Left, r.Bottom, r.Right, r.Top));
                    continue;
                }

                // A closed path's last side is drawn by its close command, not by a line command (a frame drawn as
                // three lines and a close has its fourth side there).
                PdfPoint? start = null, current = null;
                foreach (var command in subpath.Commands)
                {
                    switch (command)
                    {
                        case PdfSubpath.Move move:
                            start = current = move.Location;
                            break;
                        case PdfSubpath.Line line:
                            lines.Add((line.From.X, line.From.Y, line.To.X, line.To.Y));
                            start ??= line.From;
                            current = line.To;
                            break;
                        case PdfSubpath.BezierCurve curve:
                            start ??= curve.StartPoint;
                            current = curve.EndPoint;
                            break;
                        case PdfSubpath.Close when start is { } from && current is { } to:
                            lines.Add((to.X, to.Y, from.X, from.Y));
                            current = start;
                            break;
                    }
                }
            }
        }

        return TableDetector.Rulings(lines, rectangles);
    }

    /// <summary>Layout blocks mostly inside the table's box: the table replaces them.</summary>
    private static List<string> Covered(IReadOnlyList<LayoutItem> blocks, BoundingBox table)
    {
        var grown = new BoundingBox(table.Left - 2, table.Bottom - 2, table.Right + 2, table.Top + 2);
        return blocks.Where(b =>
        {
            var area = Math.Max(0.01, (b.Box.Right - b.Box.Left) * (b.Box.Top - b.Box.Bottom));
            var overlap = Math.Max(0, Math.Min(b.Box.Right, grown.Right) - Math.Max(b.Box.Left, grown.Left))
                * Math.Max(0, Math.Min(b.Box.Top, grown.Top) - Math.Max(b.Box.Bottom, grown.Bottom));
            return overlap >= area * 0.5;
        }).Select(b => b.Id).ToList();
    }

    private static BoundingBox Rounded(BoundingBox b) =>
        new(Checkpoints.Round(b.Left), Checkpoints.Round(b.Bottom), Checkpoints.Round(b.Right), Checkpoints.Round(b.Top));
}
