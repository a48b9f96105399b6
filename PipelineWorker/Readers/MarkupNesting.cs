using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// How deeply HTML or Markdown nests, measured on the raw text before a parser builds a tree of it (10^6 nested
/// elements would cost a parser hundreds of megabytes, and a recursive walker its stack). HTML: open tags minus close
/// tags, leaving out void elements, elements whose end tag is optional (a new &lt;p&gt; or &lt;li&gt; closes the open one, so
/// they do not nest) and the content of raw-text elements (scripts, styles). Markdown: block quote markers and list
/// indentation at the start of a line.
/// </summary>
internal static class MarkupNesting
{
    private static readonly HashSet<string> NotNesting = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param",
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption",
        "rb", "rt", "rp", "html", "head", "body",
    };

    private static readonly HashSet<string> RawText = new(StringComparer.OrdinalIgnoreCase) { "script", "style", "textarea", "title", "xmp", "noscript", "template" };

    public static void CheckHtml(string html, int limit)
    {
        ArgumentNullException.ThrowIfNull(html);
        var depth = 0;
        var i = 0;
        while ((i = html.IndexOf('<', i)) >= 0 && i + 1 < html.Length)
        {
            if (string.CompareOrdinal(html, i, "<!--", 0, 4) == 0)
            {
                var end = html.IndexOf("-->", i + 4, StringComparison.Ordinal);
                i = end < 0 ? html.Length : end + 3;
                continue;
            }

            var closing = html[i + 1] == '/';
            var start = i + (closing ? 2 : 1);
            var nameEnd = start;
            while (nameEnd < html.Length && (char.IsAsciiLetterOrDigit(html[nameEnd]) || html[nameEnd] == '-'))
            {
                nameEnd++;
            }

            if (nameEnd == start || !char.IsAsciiLetter(html[start]))
            {
                i++;
                continue;
            }

            var name = html[start..nameEnd];
            var close = html.IndexOf('>', nameEnd);
            if (close < 0)
            {
                break;
            }

            var selfClosing = html[close - 1] == '/';
            i = close + 1;
            if (NotNesting.Contains(name))
            {
                continue;
            }

            if (closing)
            {
                depth = Math.Max(0, depth - 1);
                continue;
            }

            if (RawText.Contains(name))
            {
                var end = html.IndexOf("</" + name, i, StringComparison.OrdinalIgnoreCase);
                i = end < 0 ? html.Length : end;
                continue;
            }

            if (!selfClosing && ++depth > limit)
            {
                throw TooDeep("HTML", $"elements are nested more than {limit} deep");
            }
        }
    }

    public static void CheckMarkdown(string markdown, int limit)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        foreach (var line in markdown.AsSpan().EnumerateLines())
        {
            var depth = 0;
            var spaces = 0;
            foreach (var c in line)
            {
                if (c == '>')
                {
                    depth++;
                }
                else if (c == ' ')
                {
                    spaces++;
                }
                else if (c == '\t')
                {
                    spaces += 4;
                }
                else
                {
                    break;
                }
            }

            // A nested list item is indented by at least two spaces per level.
            if (depth + (spaces / 2) > limit)
            {
                throw TooDeep("Markdown", $"block quotes or lists are nested more than {limit} deep");
            }
        }
    }

    public static PipelineFailure TooDeep(string format, string why) => new(
        FailureCodes.NestingTooDeep,
        $"The {format} document is nested too deeply to read: {why} (Worker:Readers:MaxNestingDepth). Flatten its structure and upload it again.");
}
