using System.Globalization;

namespace Suite.Contracts;

/// <summary>
/// A set of pages as a client writes it: comma-separated items, each a page (<c>4</c>), a closed range (<c>4-6</c>) or
/// an open one (<c>9-</c>: page 9 to the end). Pages count from 1. IngestService checks the form at upload; the worker
/// intersects it with the document's pages once it knows how many there are.
/// </summary>
public sealed class PageRange
{
    private const int MaxItems = 100;
    private const int MaxPage = 1_000_000;

    private readonly IReadOnlyList<(int From, int? To)> _items;

    private PageRange(IReadOnlyList<(int From, int? To)> items) => _items = items;

    /// <summary>The range, or why the text is not one.</summary>
    public static bool TryParse(string? text, out PageRange range, out string error)
    {
        range = new PageRange([]);
        error = "";
        var parts = (text ?? "").Split(',');
        if (parts.Length > MaxItems)
        {
            error = $"it has more than {MaxItems} items";
            return false;
        }

        var items = new List<(int, int?)>();
        foreach (var raw in parts)
        {
            var part = raw.Trim();
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var fromText = dash < 0 ? part : part[..dash].Trim();
            var toText = dash < 0 ? fromText : part[(dash + 1)..].Trim();
            if (!TryPage(fromText, out var from) || (toText.Length > 0 && !TryPage(toText, out _)))
            {
                error = $"'{Clip(part)}' is not a page (1 to {MaxPage}) or a range of pages like 2-3 or 5-";
                return false;
            }

            int? to = toText.Length == 0 ? null : int.Parse(toText, NumberStyles.None, CultureInfo.InvariantCulture);
            if (to < from)
            {
                error = $"'{Clip(part)}' ends before it starts";
                return false;
            }

            items.Add((from, to));
        }

        range = new PageRange(items);
        return true;
    }

    /// <summary>The canonical form: items without spaces, in the order given (<c>1,4-6,9-</c>).</summary>
    public override string ToString() => string.Join(',', _items.Select(i =>
        i.To == i.From ? i.From.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{i.From}-{i.To}")));

    public bool Contains(int page) => _items.Any(i => page >= i.From && (i.To is null || page <= i.To));

    /// <summary>The document's pages in the range, in order (empty when the range lies beyond its last page).</summary>
    public IReadOnlyList<int> Select(int pageCount) => Enumerable.Range(1, Math.Max(0, pageCount)).Where(Contains).ToList();

    private static bool TryPage(string text, out int page) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out page) && page is >= 1 and <= MaxPage;

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "...";
}
