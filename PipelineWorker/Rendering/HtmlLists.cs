using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Suite.Contracts;

namespace Suite.PipelineWorker.Rendering;

/// <summary>
/// Consecutive list items as HTML lists. The item's marker decides the list: a bullet glyph an unordered list
/// (the glyph dropped, the browser draws its own), a number, letter or roman numeral an ordered one whose
/// <c>li value</c> keeps the document's own numbering. The result has no nesting level, but the items' boxes do:
/// an item indented past the one before opens a list inside it, one back at an outer indent closes the inner lists
/// (at most six deep). Items without a recognised marker keep their text as it is, in an unordered list.
/// </summary>
internal sealed partial class HtmlLists(StringBuilder html)
{
    /// <summary>Points of indent that make an item a level deeper (about two characters of body text).</summary>
    private const double Indent = 8;
    private const int MaxDepth = 6;

    private readonly List<(string Tag, string? Type, double Left)> _open = [];

    public void Add(ResultBlock item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var lines = item.Text.Split('\n');
        // A list the file states says itself whether it is numbered; its text has no marker to read.
        var (tag, type, value, first) = item.ListDepth is null ? Marker(lines[0]) : (item.ListOrdered == true ? "ol" : "ul", null, null, lines[0]);
        var left = item.BoundingBox.Left;

        while (_open.Count > 1 && left < _open[^1].Left - (Indent / 2))
        {
            html.Append("</li>\n</").Append(_open[^1].Tag).Append(">\n");
            _open.RemoveAt(_open.Count - 1);
        }

        if (_open.Count > 0 && left > _open[^1].Left + Indent && _open.Count < MaxDepth)
        {
            Open(tag, type, left);
        }
        else if (_open.Count > 0 && (_open[^1].Tag != tag || _open[^1].Type != type))
        {
            html.Append("</li>\n</").Append(_open[^1].Tag).Append(">\n");
            _open.RemoveAt(_open.Count - 1);
            Open(tag, type, left);
        }
        else if (_open.Count > 0)
        {
            html.Append("</li>\n");
        }
        else
        {
            Open(tag, type, left);
        }

        html.Append(value is null ? "<li>" : string.Create(CultureInfo.InvariantCulture, $"<li value=\"{value}\">"))
            .AppendEncoded(string.Join('\n', lines.Skip(1).Prepend(first)));
    }

    /// <summary>Closes every open list (before any other block, and at the end of the page).</summary>
    public void Close()
    {
        for (var k = _open.Count - 1; k >= 0; k--)
        {
            html.Append("</li>\n</").Append(_open[k].Tag).Append(">\n");
        }

        _open.Clear();
    }

    private void Open(string tag, string? type, double left)
    {
        html.Append(_open.Count > 0 ? "\n<" : "<").Append(tag);
        if (type is not null)
        {
            html.Append(" type=\"").Append(type).Append('"');
        }

        html.Append(">\n");
        _open.Add((tag, type, left));
    }

    /// <summary>The list an item's first line calls for, the number it shows, and the line without its marker.</summary>
    private static (string Tag, string? Type, int? Value, string Text) Marker(string line)
    {
        var trimmed = line.TrimStart();
        if (trimmed.Length > 1 && "•◦▪▫‣∙·●○■□►▸➢✓-–—*".Contains(trimmed[0], StringComparison.Ordinal) && char.IsWhiteSpace(trimmed[1]))
        {
            return ("ul", null, null, trimmed[2..].TrimStart());
        }

        if (Enumerator().Match(trimmed) is { Success: true } m)
        {
            var marker = m.Groups["marker"].Value;
            var rest = trimmed[m.Length..];
            if (int.TryParse(marker, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return ("ol", null, number, rest);
            }

            if (marker.Length == 1)
            {
                // A single letter, also i, v or x: "a. b. … i." is far more common than a roman list of one item.
                return ("ol", char.IsUpper(marker[0]) ? "A" : "a", char.ToLowerInvariant(marker[0]) - 'a' + 1, rest);
            }

            if (Roman(marker) is { } roman)
            {
                return ("ol", char.IsUpper(marker[0]) ? "I" : "i", roman, rest);
            }
        }

        return ("ul", null, null, line);
    }

    private static int? Roman(string marker)
    {
        var total = 0;
        var previous = 0;
        foreach (var c in marker.ToLowerInvariant().Reverse())
        {
            var digit = c switch { 'i' => 1, 'v' => 5, 'x' => 10, _ => 0 };
            if (digit == 0)
            {
                return null;
            }

            total += digit < previous ? -digit : digit;
            previous = Math.Max(previous, digit);
        }

        return total;
    }

    /// <summary>"1." "2)" "(3)" "a." "(b)" "iv." at the start of an item, followed by its text.</summary>
    [GeneratedRegex(@"^\(?(?<marker>\d{1,4}|[a-zA-Z]|[ivxIVX]{2,4})[.)]\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Enumerator();
}
