using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.Graphics.Colors;
using UglyToad.PdfPig.PdfFonts;

namespace Suite.PipelineWorker.Layout;

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

        // Columns first: Docstrum joins columns whose gutter is narrow (LaTeX's multicol leaves 10 pt), so it runs
        // inside each region of an XY-cut of the words.
        var blocks = new List<LayoutBlock>();
        var usedFallback = false;
        foreach (var region in Regions(words))
        {
            List<LayoutBlock>? regionBlocks = null;
            var placed = 0;
            try
            {
                (regionBlocks, placed) = Docstrum(region);
            }
            catch (Exception ex) when (PdfOpening.IsParseError(ex))
            {
                // The segmenter fails on some degenerate geometry; the fallback below always produces output.
            }

            if (regionBlocks is null || placed != region.Count)
            {
                usedFallback = true;
                regionBlocks = Fallback(region);
            }

            blocks.AddRange(regionBlocks);
        }

        return new PageLayout(Order(blocks), usedFallback);
    }

    /// <summary>Narrowest gutter between two columns, and narrowest column.</summary>
    private const double MinGutter = 6;
    private const double MinColumnWidth = 50;

    /// <summary>
    /// Recursive XY-cut of the words: a region splits at a vertical gutter (no word crosses it, at least
    /// <see cref="MinGutter"/> wide, columns at least <see cref="MinColumnWidth"/> wide), else at horizontal gaps
    /// larger than a line height; regions that do not split are returned whole.
    /// </summary>
    internal static List<List<ExtractedWord>> Regions(IReadOnlyList<ExtractedWord> words)
    {
        var regions = new List<List<ExtractedWord>>();
        var lineHeight = words.Count == 0 ? 10 : Math.Max(2, words.Select(w => w.Top - w.Bottom).Order().ElementAt(words.Count / 2));
        Cut([.. words], regions, lineHeight, 0);
        return regions;
    }

    private static void Cut(List<ExtractedWord> region, List<List<ExtractedWord>> output, double lineHeight, int depth)
    {
        if (region.Count < 2 || depth > 40)
        {
            output.Add(region);
            return;
        }

        var columns = Split(region, w => w.Left, w => w.Right, MinGutter);
        if (columns.Count > 1 && columns.All(c => c.Max(w => w.Right) - c.Min(w => w.Left) >= MinColumnWidth))
        {
            foreach (var column in columns)
            {
                Cut(column, output, lineHeight, depth + 1);
            }

            return;
        }

        var bands = Split(region, w => -w.Top, w => -w.Bottom, lineHeight);
        if (bands.Count > 1)
        {
            foreach (var band in bands)
            {
                Cut(band, output, lineHeight, depth + 1);
            }

            return;
        }

        output.Add(region);
    }

    /// <summary>Groups words whose [start, end] projections overlap or are closer than <paramref name="minGap"/>, in ascending order.</summary>
    private static List<List<ExtractedWord>> Split(List<ExtractedWord> words, Func<ExtractedWord, double> start, Func<ExtractedWord, double> end, double minGap)
    {
        var groups = new List<List<ExtractedWord>>();
        var reach = double.NegativeInfinity;
        foreach (var word in words.OrderBy(start))
        {
            if (groups.Count == 0 || start(word) - reach >= minGap)
            {
                groups.Add([]);
            }

            groups[^1].Add(word);
            reach = Math.Max(reach, end(word));
        }

        return groups;
    }

    /// <summary>
    /// Blocks as OCR recognised them: one block per paragraph, its lines in order (each left to right), the
    /// paragraphs top-to-bottom. <paramref name="lines"/> and <paramref name="paragraphs"/> give each word's keys.
    /// </summary>
    public static PageLayout FromParagraphs(IReadOnlyList<ExtractedWord> words, IReadOnlyList<int> lines, IReadOnlyList<int> paragraphs)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(paragraphs);
        var blocks = Enumerable.Range(0, words.Count)
            .GroupBy(i => paragraphs[i])
            .Select(paragraph =>
            {
                var lineWords = paragraph.GroupBy(i => lines[i]).Select(l => l.Select(i => words[i]).OrderBy(w => w.Left).ToList()).ToList();
                return ToBlock(lineWords);
            })
            .ToList();
        return new PageLayout(Order(blocks), false);
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
