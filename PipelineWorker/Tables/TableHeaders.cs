using System.Text.RegularExpressions;
using Suite.Contracts;
using Suite.PipelineWorker.Layout;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Tables;

/// <summary>
/// How many rows at the top of a table are headers, judged from what a reader sees:
/// <list type="bullet">
/// <item>rows that are one cell across the whole table (a title inside the frame) come first;</item>
/// <item>then a row with a merged cell over several columns is a group header, with the row of sub-column labels
/// below it;</item>
/// <item>otherwise the first row is a header when its text is words over columns of numbers, or bold over a
/// body that is not;</item>
/// <item>header cells that span rows take those rows into the header.</item>
/// </list>
/// At least one row is always left for the body. Nothing recognised: 0 (the Markdown still shows the first row as
/// its header, as GitHub-flavoured Markdown needs one).
/// </summary>
internal static partial class TableHeaders
{
    /// <param name="cells">The table's cells with their spans.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="rowWords">Each row's words (for their fonts).</param>
    public static int Count(IReadOnlyList<TableCell> cells, int rows, int columns, IReadOnlyList<List<ExtractedWord>> rowWords)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(rowWords);
        if (rows < 2)
        {
            return 0;
        }

        var byRow = Enumerable.Range(0, rows).Select(r => cells.Where(c => c.Row == r).ToList()).ToList();
        var first = 0;
        while (first < rows - 1 && byRow[first] is [{ ColumnSpan: var span, RowSpan: 1, Text.Length: > 0 }] && span == columns)
        {
            first++;
        }

        if (first >= rows - 1)
        {
            return first;
        }

        int end;
        if (byRow[first].Any(c => c.ColumnSpan > 1 && c.Text.Length > 0))
        {
            end = first + 2;
        }
        else if (WordsOverNumbers(cells, first) || BoldOverPlain(rowWords, first))
        {
            end = first + 1;
        }
        else
        {
            return first;
        }

        // Header cells spanning rows take those rows into the header.
        for (var grown = true; grown;)
        {
            var reach = cells.Where(c => c.Row < end).Select(c => c.Row + c.RowSpan).DefaultIfEmpty(end).Max();
            grown = reach > end;
            end = Math.Max(end, reach);
        }

        return Math.Min(end, rows - 1);
    }

    /// <summary>The row's filled cells are all words, and below at least one of them the body is mostly numbers.</summary>
    private static bool WordsOverNumbers(IReadOnlyList<TableCell> cells, int row)
    {
        var header = cells.Where(c => c.Row == row && c.Text.Length > 0).ToList();
        if (header.Count == 0 || header.Any(c => IsNumber(c.Text)))
        {
            return false;
        }

        return header.Any(h =>
        {
            var below = cells.Where(c => c.Row > row && c.Column == h.Column && c.Text.Length > 0).ToList();
            return below.Count > 0 && below.Count(c => IsNumber(c.Text)) >= below.Count * 0.6;
        });
    }

    /// <summary>The row's words are (almost) all bold, and the body's are mostly not.</summary>
    private static bool BoldOverPlain(IReadOnlyList<List<ExtractedWord>> rowWords, int row)
    {
        var header = rowWords[row];
        var body = rowWords.Skip(row + 1).SelectMany(w => w).ToList();
        return header.Count > 0 && body.Count > 0
            && header.Count(w => LayoutRoles.IsBoldFont(w.Font)) >= header.Count * 0.8
            && body.Count(w => LayoutRoles.IsBoldFont(w.Font)) < body.Count * 0.5;
    }

    private static bool IsNumber(string text) => NumberLike().IsMatch(text.Trim());

    /// <summary>Digits with the separators, signs, units and date punctuation numbers come with.</summary>
    [GeneratedRegex(@"^[\s$€£¥%()+\-–.,:/0-9]*[0-9][\s$€£¥%()+\-–.,:/0-9]*$")]
    private static partial Regex NumberLike();
}
