using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.Graphics.Colors;
using UglyToad.PdfPig.PdfFonts;

namespace Suite.PipelineWorker.Stages;

/// <summary>A block of lines on a page, with its box and the words it holds (for font sizes and styles).</summary>
internal sealed record LayoutBlock(IReadOnlyList<string> Lines, double Left, double Bottom, double Right, double Top)
{
    public string Text => string.Join('\n', Lines);

    public IReadOnlyList<ExtractedWord> Words { get; init; } = [];
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
        var origin = new Dictionary<Word, ExtractedWord>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < words.Count; i++)
        {
            origin[pdfWords[i]] = words[i];
        }

        var segmented = DocstrumBoundingBoxes.Instance.GetBlocks(pdfWords);
        var blocks = segmented
            .Select(b => new LayoutBlock(
                Dehyphenate(b.TextLines.Select(l => JoinWords(l.Words.Select(w => (w.Text, w.BoundingBox.Left, w.BoundingBox.Right, w.BoundingBox.Bottom, w.BoundingBox.Height))))),
                b.BoundingBox.Left,
                b.BoundingBox.Bottom,
                b.BoundingBox.Right,
                b.BoundingBox.Top)
            {
                Words = b.TextLines.SelectMany(l => l.Words).Select(w => origin.GetValueOrDefault(w)).OfType<ExtractedWord>().ToList(),
            })
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

    /// <summary>
    /// The text of a line. Words that touch (sub- and superscripts, a footnote mark, a change of font inside a
    /// word) are joined without a space, as a reader sees them; the word extractor splits them.
    /// </summary>
    internal static string JoinWords(IEnumerable<(string Text, double Left, double Right, double Bottom, double Height)> words)
    {
        var line = new System.Text.StringBuilder();
        (string Text, double Left, double Right, double Bottom, double Height)? previous = null;
        foreach (var word in words)
        {
            if (previous is { } p)
            {
                var gap = word.Left - p.Right;
                // A script sits on another baseline or is smaller, and follows its base closely (< 1 pt).
                var script = Math.Abs(word.Bottom - p.Bottom) > 1 || Math.Abs(word.Height - p.Height) > 0.15 * Math.Max(word.Height, p.Height);
                var touching = word.Left >= p.Left && (gap < 0.3 || (script && gap < 1.0));
                if (!touching)
                {
                    line.Append(' ');
                }
            }

            line.Append(word.Text);
            previous = word;
        }

        return line.ToString();
    }

    /// <summary>
    /// Joins a word hyphenated at the end of a line with its continuation on the next line ("unterschiedli-" +
    /// "chem"), as pdftotext does, so the word is searchable; the line structure is otherwise kept.
    /// </summary>
    internal static List<string> Dehyphenate(IEnumerable<string> lines)
    {
        var result = lines.ToList();
        for (var i = 0; i < result.Count - 1; i++)
        {
            var line = result[i];
            var next = result[i + 1];
            if (line.Length >= 2 && line[^1] == '-' && char.IsLetter(line[^2]) && next.Length > 0 && char.IsLetter(next[0]))
            {
                var end = next.IndexOf(' ', StringComparison.Ordinal);
                var continuation = end < 0 ? next : next[..end];
                result[i] = line[..^1] + continuation;
                result[i + 1] = end < 0 ? "" : next[(end + 1)..];
            }
        }

        result.RemoveAll(l => l.Length == 0);
        return result;
    }

    private static double LineCentre(List<ExtractedWord> line) => line.Average(w => (w.Top + w.Bottom) / 2);

    private static LayoutBlock ToBlock(List<List<ExtractedWord>> lines)
    {
        var all = lines.SelectMany(l => l).ToList();
        return new LayoutBlock(
            Dehyphenate(lines.Select(l => JoinWords(l.OrderBy(w => w.Left).Select(w => (w.Text, w.Left, w.Right, w.Bottom, w.Top - w.Bottom))))),
            all.Min(w => w.Left),
            all.Min(w => w.Bottom),
            all.Max(w => w.Right),
            all.Max(w => w.Top))
        {
            Words = all,
        };
    }

    /// <summary>Top-to-bottom, then left-to-right: the order blocks are numbered in (the reading-order stage orders them).</summary>
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
