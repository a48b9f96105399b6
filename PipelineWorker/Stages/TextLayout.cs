using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.Graphics.Colors;
using UglyToad.PdfPig.PdfFonts;

namespace Suite.PipelineWorker.Stages;

/// <summary>A block of lines on a page, with its box.</summary>
internal sealed record LayoutBlock(IReadOnlyList<string> Lines, double Left, double Bottom, double Right, double Top)
{
    public string Text => string.Join('\n', Lines);
}

/// <summary>The blocks of one page, and whether the simple fallback had to replace the segmenter.</summary>
internal sealed record PageLayout(IReadOnlyList<LayoutBlock> Blocks, bool UsedFallback);

/// <summary>
/// Groups the words of a page into lines and blocks with PdfPig's Docstrum segmenter. The words come from the
/// extract checkpoint, so they are rebuilt as PdfPig words (one synthetic letter spanning each word's box).
/// If the segmenter throws or loses words, the page falls back to simple geometric line grouping.
/// Blocks are returned top-to-bottom, then left-to-right.
/// </summary>
internal static class TextLayout
{
    public static PageLayout Segment(IReadOnlyList<ExtractedWord> words)
    {
        if (words.Count == 0)
        {
            return new PageLayout([], false);
        }

        IReadOnlyList<LayoutBlock>? blocks = null;
        var placed = 0;
        try
        {
            (blocks, placed) = Docstrum(words);
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            // The segmenter fails on some degenerate geometry; the fallback below always produces output.
        }

        var usedFallback = blocks is null || placed != words.Count;
        if (usedFallback)
        {
            blocks = Fallback(words);
        }

        return new PageLayout(Order(blocks!), usedFallback);
    }

    /// <summary>The blocks, and how many words they hold (the segmenter must not drop any).</summary>
    private static (List<LayoutBlock> Blocks, int Words) Docstrum(IReadOnlyList<ExtractedWord> words)
    {
        var pdfWords = words.Select(ToPdfPigWord).ToList();
        var segmented = DocstrumBoundingBoxes.Instance.GetBlocks(pdfWords);
        var blocks = segmented
            .Select(b => new LayoutBlock(
                b.TextLines.Select(l => string.Join(' ', l.Words.Select(w => w.Text))).ToList(),
                b.BoundingBox.Left,
                b.BoundingBox.Bottom,
                b.BoundingBox.Right,
                b.BoundingBox.Top))
            .ToList();
        return (blocks, segmented.Sum(b => b.TextLines.Sum(l => l.Words.Count)));
    }

    /// <summary>Lines: words whose vertical centres are close; blocks: consecutive lines without a large gap.</summary>
    internal static List<LayoutBlock> Fallback(IReadOnlyList<ExtractedWord> words)
    {
        var lines = new List<List<ExtractedWord>>();
        foreach (var word in words.OrderByDescending(w => (w.Top + w.Bottom) / 2).ThenBy(w => w.Left))
        {
            var centre = (word.Top + word.Bottom) / 2;
            var height = Math.Max(word.Top - word.Bottom, 1);
            var line = lines.Count > 0 ? lines[^1] : null;
            if (line is not null && Math.Abs(LineCentre(line) - centre) <= height / 2)
            {
                line.Add(word);
            }
            else
            {
                lines.Add([word]);
            }
        }

        var blocks = new List<LayoutBlock>();
        List<List<ExtractedWord>> current = [];
        foreach (var line in lines)
        {
            if (current.Count > 0)
            {
                var previous = current[^1];
                var gap = previous.Min(w => w.Bottom) - line.Max(w => w.Top);
                var lineHeight = previous.Max(w => w.Top - w.Bottom);
                if (gap > Math.Max(lineHeight, 1) * 1.2)
                {
                    blocks.Add(ToBlock(current));
                    current = [];
                }
            }

            current.Add(line);
        }

        if (current.Count > 0)
        {
            blocks.Add(ToBlock(current));
        }

        return blocks;
    }

    private static double LineCentre(List<ExtractedWord> line) => line.Average(w => (w.Top + w.Bottom) / 2);

    private static LayoutBlock ToBlock(List<List<ExtractedWord>> lines)
    {
        var all = lines.SelectMany(l => l).ToList();
        return new LayoutBlock(
            lines.Select(l => string.Join(' ', l.OrderBy(w => w.Left).Select(w => w.Text))).ToList(),
            all.Min(w => w.Left),
            all.Min(w => w.Bottom),
            all.Max(w => w.Right),
            all.Max(w => w.Top));
    }

    /// <summary>Reading order for now: top-to-bottom, then left-to-right (the reading-order stage comes later).</summary>
    private static List<LayoutBlock> Order(IEnumerable<LayoutBlock> blocks) =>
        blocks.OrderByDescending(b => Math.Round(b.Top, 1)).ThenBy(b => b.Left).ToList();

    private static Word ToPdfPigWord(ExtractedWord word)
    {
        var box = new PdfRectangle(word.Left, word.Bottom, Math.Max(word.Right, word.Left), Math.Max(word.Top, word.Bottom));
        var size = word.Size > 0 ? word.Size : Math.Max(box.Height, 1);
        var letter = new Letter(
            word.Text,
            box,
            box,
            new PdfPoint(box.Left, box.Bottom),
            new PdfPoint(box.Right, box.Bottom),
            box.Width,
            size,
            new FontDetails(word.Font ?? string.Empty, false, 400, false),
            TextRenderingMode.Fill,
            GrayColor.Black,
            GrayColor.Black,
            size,
            0);
        return new Word([letter]);
    }
}
