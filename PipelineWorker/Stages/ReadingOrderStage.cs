using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Pdf;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// reading-order: the order of each page's blocks. Page headers first, page footers last; the body by recursive
/// XY-cut: a region is split at its widest vertical gap (columns, read left to right) when it has one, else at its
/// horizontal gaps (bands, read top to bottom); a region that cannot be cut is read top to bottom, left to right.
/// Fallback: on a page where that fails, and when switched off, the geometric order (top to bottom, then left to
/// right). Transient: none. Permanent: none. A page that came with its structure keeps the file's order.
/// </summary>
internal sealed class ReadingOrderStage(IOptions<ReadingOrderOptions> options, IOptions<WorkerOptions> worker) : IPipelineStage
{
    /// <summary>Narrower gaps between blocks are not column gutters.</summary>
    private const double MinColumnGap = 6;

    public string Name => PipelineStageNames.ReadingOrder;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        var layout = await StageCheckpoint.ReadAsync<LayoutCheckpoint>(context, PipelineStageNames.Layout, cancellationToken);
        using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
        var pages = new List<PageOrder>();
        var failed = new List<(int Page, string Error)>();
        var timedOut = false;
        foreach (var page in layout.Pages)
        {
            IReadOnlyList<LayoutItem> ordered;
            if (page.Structured)
            {
                // The file's own order is the reading order.
                ordered = page.Blocks;
            }
            else if (!o.Enabled || timedOut)
            {
                ordered = Geometric(page.Blocks);
            }
            else
            {
                try
                {
                    clock.Token.ThrowIfCancellationRequested();
                    ordered = Order(page.Blocks);
                }
                catch (OperationCanceledException) when (clock.Expired)
                {
                    timedOut = true;
                    ordered = Geometric(page.Blocks);
                }
                catch (Exception ex) when (PdfOpening.IsParseError(ex))
                {
                    failed.Add((page.Page, PdfOpening.Describe(ex)));
                    ordered = Geometric(page.Blocks);
                }
            }

            pages.Add(new PageOrder(page.Page, ordered.Select(b => b.Id).ToList()));
        }

        var note = !o.Enabled
            ? StageNote.Skipped("switched off by configuration (Pipeline:ReadingOrder:Enabled=false); blocks in geometric order")
            : failed.Count > 0 || timedOut
                ? StageNote.Degraded(string.Join("; ", new[]
                {
                    failed.Count > 0 ? $"geometric order used on pages {StageCheckpoint.Pages(failed.Select(f => f.Page).ToList())}: {failed[0].Error}" : null,
                    timedOut ? $"stopped at the stage timeout of {clock.Describe()}; later pages in geometric order" : null,
                }.OfType<string>()))
                : StageNote.Completed;
        await StageCheckpoint.WriteAsync(context, Name, new ReadingOrderCheckpoint(StageCheckpoint.Version, note, pages), cancellationToken);
        return note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<ReadingOrderCheckpoint>(context, Name, c => c.Pages is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    /// <summary>Headers, the body by XY-cut, footers.</summary>
    internal static List<LayoutItem> Order(IReadOnlyList<LayoutItem> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var headers = Geometric(blocks.Where(b => b.Role == BlockRoles.PageHeader).ToList());
        var footers = Geometric(blocks.Where(b => b.Role == BlockRoles.PageFooter).ToList());
        var body = blocks.Where(b => b.Role is not (BlockRoles.PageHeader or BlockRoles.PageFooter)).ToList();
        var ordered = new List<LayoutItem>(blocks.Count);
        ordered.AddRange(headers);
        XyCut(body, ordered, depth: 0);
        ordered.AddRange(footers);
        return ordered;
    }

    /// <summary>Top to bottom, then left to right.</summary>
    internal static List<LayoutItem> Geometric(IReadOnlyList<LayoutItem> blocks) =>
        blocks.OrderByDescending(b => Math.Round(b.Box.Top, 1)).ThenBy(b => b.Box.Left).ToList();

    private static void XyCut(List<LayoutItem> region, List<LayoutItem> output, int depth)
    {
        if (region.Count <= 1 || depth > 50)
        {
            output.AddRange(Geometric(region));
            return;
        }

        // Columns first: a gutter running through the whole region means its left part is read before its right.
        var columns = Split(region, b => b.Box.Left, b => b.Box.Right, MinColumnGap);
        if (columns.Count > 1)
        {
            foreach (var column in columns)
            {
                XyCut(column, output, depth + 1);
            }

            return;
        }

        // Bands, top to bottom (projected on the y axis, higher first).
        var bands = Split(region, b => -b.Box.Top, b => -b.Box.Bottom, 0.5);
        if (bands.Count > 1)
        {
            foreach (var band in bands)
            {
                XyCut(band, output, depth + 1);
            }

            return;
        }

        output.AddRange(Geometric(region));
    }

    /// <summary>Groups blocks whose [start, end] projections overlap (or are closer than <paramref name="minGap"/>), in ascending order.</summary>
    private static List<List<LayoutItem>> Split(List<LayoutItem> blocks, Func<LayoutItem, double> start, Func<LayoutItem, double> end, double minGap)
    {
        var groups = new List<List<LayoutItem>>();
        var reach = double.NegativeInfinity;
        foreach (var block in blocks.OrderBy(start))
        {
            if (groups.Count == 0 || start(block) - reach >= minGap)
            {
                groups.Add([]);
            }

            groups[^1].Add(block);
            reach = Math.Max(reach, end(block));
        }

        return groups;
    }
}
