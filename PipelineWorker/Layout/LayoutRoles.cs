using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Layout;

/// <summary>
/// What the layout stage learns about the whole document before it assigns roles: the body text size, the sizes
/// used for headings, and the lines repeated in the top and bottom margins across pages (running heads, page
/// footers). Collected in one streaming pass so memory does not grow with the page count.
/// </summary>
internal sealed class DocumentTypography
{
    /// <summary>Share of the page height at the top and bottom treated as margins.</summary>
    public const double MarginZone = 0.12;

    private readonly Dictionary<double, long> _sizes = [];
    private readonly Dictionary<string, HashSet<int>> _marginLines = new(StringComparer.Ordinal);
    private int _pagesWithText;

    public double BodySize { get; private set; } = 10;

    /// <summary>Text sizes clearly larger than the body, largest first (heading levels 1, 2, 3...).</summary>
    public IReadOnlyList<double> HeadingSizes { get; private set; } = [];

    public void AddPage(int page, double pageHeight, IReadOnlyList<ExtractedWord> words, bool fromOcr)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Count == 0)
        {
            return;
        }

        _pagesWithText++;
        if (!fromOcr)
        {
            // OCR word heights are boxes, not font sizes: only the text layer defines the typography.
            foreach (var word in words)
            {
                var size = LayoutRoles.RoundSize(word.Size);
                _sizes[size] = _sizes.GetValueOrDefault(size) + word.Text.Length;
            }
        }

        foreach (var line in MarginLines(words, pageHeight))
        {
            if (!_marginLines.TryGetValue(line, out var pages))
            {
                _marginLines[line] = pages = [];
            }

            pages.Add(page);
        }
    }

    /// <summary>Call once every page was added.</summary>
    public void Complete()
    {
        if (_sizes.Count > 0)
        {
            BodySize = _sizes.MaxBy(s => s.Value).Key;
        }

        var total = _sizes.Values.Sum();
        HeadingSizes = _sizes
            .Where(s => s.Key >= BodySize * LayoutRoles.HeadingSizeRatio && s.Value <= total / 4)
            .Select(s => s.Key)
            .OrderDescending()
            .ToList();
    }

    /// <summary>
    /// A margin line seen on enough pages to be a running head or footer. Lines are compared by key (lower case,
    /// no spaces, digit runs as #), and a longer part of a repeated line counts too: the blocks found later may
    /// split or join the lines seen here (a running head and its page number on one line).
    /// </summary>
    public bool IsRepeated(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _repeated ??= _marginLines
            .Where(l => l.Value.Count >= Math.Max(2, Math.Min(5, (int)Math.Ceiling(_pagesWithText * 0.1))))
            .Select(l => l.Key)
            .ToHashSet(StringComparer.Ordinal);
        return _repeated.Contains(key)
            || (key.Length >= 8 && _repeated.Any(r => r.Length >= 8 && (r.Contains(key, StringComparison.Ordinal) || key.Contains(r, StringComparison.Ordinal))));
    }

    private HashSet<string>? _repeated;

    /// <summary>Normalised lines of words lying in the page's top or bottom margin zone.</summary>
    public static IEnumerable<string> MarginLines(IReadOnlyList<ExtractedWord> words, double pageHeight)
    {
        if (pageHeight <= 0)
        {
            yield break;
        }

        var zoned = words.Where(w => w.Bottom >= pageHeight * (1 - MarginZone) || w.Top <= pageHeight * MarginZone).ToList();
        foreach (var line in TextLayout.Fallback(zoned).SelectMany(b => b.Lines))
        {
            yield return LayoutRoles.MarginKey(line);
        }
    }
}

/// <summary>
/// Assigns each block its role from font size, weight, position and repetition across pages: page_header /
/// page_footer (margin zone and repeated, or a bare page number), caption ("Figure 3", "Table 2", "Abbildung 1"...),
/// title (the largest text at the top of the first page with text), section_header (short, larger than body text
/// or bold, or numbered "2.1 Methods"), list_item (bullets and enumerators; a block of several items is split),
/// otherwise paragraph. Tables and pictures get their roles in assemble from the tables and pictures stages.
/// </summary>
internal static partial class LayoutRoles
{
    public const double HeadingSizeRatio = 1.12;

    public static double RoundSize(double size) => Math.Round(size * 2, MidpointRounding.AwayFromZero) / 2;

    public static string MarginKey(string line)
    {
        var key = new StringBuilder(line.Length);
        foreach (var c in line.ToLowerInvariant())
        {
            if (char.IsDigit(c))
            {
                if (key.Length == 0 || key[^1] != '#')
                {
                    key.Append('#');
                }
            }
            else if (!char.IsWhiteSpace(c))
            {
                key.Append(c);
            }
        }

        return key.ToString();
    }

    public static bool IsBoldFont(string? font) =>
        font is not null && BoldFont().IsMatch(font);

    /// <summary>Roles of one page's blocks (in the order given), splitting list blocks into items.</summary>
    public static List<(LayoutBlock Block, string Role, int? Level, double Size)> Classify(
        IReadOnlyList<LayoutBlock> blocks, double pageWidth, double pageHeight, DocumentTypography typography, bool fromOcr, bool firstTextPage)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(typography);
        var body = fromOcr ? PageBodySize(blocks) : typography.BodySize;
        var sized = blocks.Select(b => (Block: b, Size: BlockSize(b), Bold: !fromOcr && IsBold(b))).ToList();

        // The title: the largest text in the upper half of the first page with text, clearly above body size.
        LayoutBlock? title = null;
        if (firstTextPage && !fromOcr)
        {
            var top = sized.Where(s => s.Block.Top >= pageHeight * 0.5 && s.Block.Lines.Count <= 4 && s.Block.Text.Length <= 250 && HasLetters(s.Block.Text))
                .OrderByDescending(s => s.Size).FirstOrDefault();
            if (top.Block is not null && top.Size >= body * 1.25 && top.Size >= sized.Max(s => s.Size) && !NumberedHeading().IsMatch(top.Block.Text.Trim()))
            {
                title = top.Block;
            }
        }

        // A bare page number is furniture when it is the first or last block of the page, wherever the margins are.
        var highest = blocks.Count > 1 ? blocks.MaxBy(b => b.Top) : null;
        var lowest = blocks.Count > 1 ? blocks.MinBy(b => b.Bottom) : null;
        var result = new List<(LayoutBlock, string, int?, double)>();
        foreach (var (block, size, bold) in sized)
        {
            var text = block.Text.Trim();
            if (ReferenceEquals(block, title))
            {
                result.Add((block, BlockRoles.Title, 0, size));
            }
            else if ((ReferenceEquals(block, lowest) || ReferenceEquals(block, highest)) && PageNumber().IsMatch(text))
            {
                result.Add((block, ReferenceEquals(block, lowest) ? BlockRoles.PageFooter : BlockRoles.PageHeader, null, size));
            }
            else if (IsFurniture(block, pageHeight, typography) is { } furniture)
            {
                result.Add((block, furniture, null, size));
            }
            else if (CaptionStart().IsMatch(text))
            {
                result.Add((block, BlockRoles.Caption, null, size));
            }
            else if (IsHeading(block, text, size, bold, body, fromOcr) is { } level)
            {
                result.Add((block, BlockRoles.SectionHeader, level == 0 ? HeadingLevel(size, typography) : level, size));
            }
            else if (ListMarker().IsMatch(block.Lines[0]))
            {
                foreach (var item in SplitListItems(block))
                {
                    result.Add((item, BlockRoles.ListItem, null, size));
                }
            }
            else
            {
                result.Add((block, BlockRoles.Paragraph, null, size));
            }
        }

        return result;
    }

    /// <summary>page_header / page_footer when in a margin zone and repeated across pages, or a bare page number there.</summary>
    private static string? IsFurniture(LayoutBlock block, double pageHeight, DocumentTypography typography)
    {
        if (pageHeight <= 0 || block.Lines.Count > 3 || block.Text.Length > 200)
        {
            return null;
        }

        var inTop = block.Bottom >= pageHeight * (1 - DocumentTypography.MarginZone);
        var inBottom = block.Top <= pageHeight * DocumentTypography.MarginZone;
        if (!inTop && !inBottom)
        {
            return null;
        }

        var repeated = block.Lines.Any(l => typography.IsRepeated(MarginKey(l)));
        if (!repeated && !PageNumber().IsMatch(block.Text.Trim()))
        {
            return null;
        }

        return inTop ? BlockRoles.PageHeader : BlockRoles.PageFooter;
    }

    /// <summary>Null when not a heading; 0 for a heading whose level follows from its size; else its numbering depth.</summary>
    private static int? IsHeading(LayoutBlock block, string text, double size, bool bold, double body, bool fromOcr)
    {
        if (block.Lines.Count > 3 || text.Length is < 2 or > 160 || !HasLetters(text) || LooksLikeSentence(text))
        {
            return null;
        }

        // OCR boxes vary with the letters and noise comes out as short fragments: only clearly larger real words.
        if (fromOcr && (text.Count(char.IsLetter) < 4 || size < body * 1.4))
        {
            return null;
        }

        var numbered = NumberedHeading().Match(text);
        var larger = size >= body * HeadingSizeRatio;
        var boldShort = bold && block.Lines.Count <= 2 && text.Length <= 100 && size >= body * 0.9;
        if (!larger && !boldShort)
        {
            return null;
        }

        return numbered.Success ? Math.Min(6, numbered.Groups[1].Value.Split('.', StringSplitOptions.RemoveEmptyEntries).Length) : 0;
    }

    private static int HeadingLevel(double size, DocumentTypography typography)
    {
        var larger = typography.HeadingSizes.Count(s => s > RoundSize(size));
        return Math.Clamp(larger + 1, 1, 6);
    }

    /// <summary>A long line ending in a full stop is prose, not a heading.</summary>
    private static bool LooksLikeSentence(string text) =>
        text.Length > 60 && text.EndsWith('.') && !NumberedHeading().IsMatch(text);

    private static bool HasLetters(string text) => text.Count(char.IsLetter) >= 2;

    private static double BlockSize(LayoutBlock block)
    {
        if (block.Words.Count == 0)
        {
            return 0;
        }

        // Size carrying most characters: a footnote mark or a drop cap does not make a paragraph a heading.
        return block.Words.GroupBy(w => RoundSize(w.Size)).MaxBy(g => g.Sum(w => w.Text.Length))!.Key;
    }

    private static bool IsBold(LayoutBlock block)
    {
        var total = block.Words.Sum(w => w.Text.Length);
        return total > 0 && block.Words.Where(w => IsBoldFont(w.Font)).Sum(w => w.Text.Length) >= total * 0.8;
    }

    private static double PageBodySize(IReadOnlyList<LayoutBlock> blocks)
    {
        var words = blocks.SelectMany(b => b.Words).ToList();
        return words.Count == 0 ? 10 : words.GroupBy(w => RoundSize(w.Size)).MaxBy(g => g.Sum(w => w.Text.Length))!.Key;
    }

    /// <summary>A block whose lines start with list markers becomes one item per marker line (with its continuation lines).</summary>
    private static IEnumerable<LayoutBlock> SplitListItems(LayoutBlock block)
    {
        var starts = block.Lines.Select((l, i) => (l, i)).Where(x => ListMarker().IsMatch(x.l)).Select(x => x.i).ToList();
        if (starts.Count <= 1)
        {
            yield return block;
            yield break;
        }

        // Without line positions, items share the block's box split evenly by line.
        var lineHeight = (block.Top - block.Bottom) / block.Lines.Count;
        for (var k = 0; k < starts.Count; k++)
        {
            var from = starts[k];
            var to = k + 1 < starts.Count ? starts[k + 1] : block.Lines.Count;
            yield return new LayoutBlock(block.Lines.Skip(from).Take(to - from).ToList(), block.Left, block.Top - (to * lineHeight), block.Right, block.Top - (from * lineHeight))
            {
                Words = block.Words,
            };
        }
    }

    public static string FormatSize(double size) => size.ToString("0.#", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(bold|black|heavy|semibold|demibold|\bdemi|[-,]bd\b|\+?cmbx|cmb\d|sfbx|lmroman\d*-bold)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BoldFont();

    [GeneratedRegex(@"^(figure|fig\.|table|tab\.|abbildung|abb\.|tabelle|chart|exhibit|plate|listing|illustration)\s*[0-9IVXivx]+[a-z]?\s*([.:\-–—]|\s|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CaptionStart();

    [GeneratedRegex(@"^\s*([•◦▪▫‣∙·●○■□►▸➢✓\-–—*]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])\s+\S", RegexOptions.CultureInvariant)]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"^((?:\d{1,2}\.)*\d{1,2})\.?\s+\p{L}", RegexOptions.CultureInvariant)]
    private static partial Regex NumberedHeading();

    [GeneratedRegex(@"^((page|seite|p\.)\s*)?[-–—]?\s*(\d{1,4}|[ivxlc]{1,6})\s*((of|von|/)\s*\d{1,4})?\s*[-–—]?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PageNumber();
}
