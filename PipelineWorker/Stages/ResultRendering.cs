using System.Globalization;
using System.Text;
using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>The Markdown and plain-text renderings of the result, appended page by page.</summary>
internal static class ResultRendering
{
    public static void AppendPage(StringBuilder markdown, StringBuilder text, int pageNumber, IReadOnlyList<ResultBlock> blocks)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(blocks);

        if (markdown.Length > 0)
        {
            markdown.Append('\n');
        }

        markdown.Append(CultureInfo.InvariantCulture, $"<!-- page {pageNumber} -->\n");
        foreach (var block in blocks)
        {
            markdown.Append('\n');
            foreach (var line in block.Text.Split('\n'))
            {
                markdown.Append(EscapeMarkdownLine(line)).Append('\n');
            }
        }

        if (pageNumber > 1)
        {
            text.Append('\f');
        }

        text.AppendJoin("\n\n", blocks.Select(b => b.Text));
        if (blocks.Count > 0)
        {
            text.Append('\n');
        }
    }

    /// <summary>
    /// Escapes what Markdown would read as markup, so the text shows as written: inline markers everywhere,
    /// and block markers (headings, quotes, list items, rules) at the start of a line.
    /// </summary>
    public static string EscapeMarkdownLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var escaped = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        if (escaped.Length > 0 && escaped[0] is '#' or '+' or '-' or '=' or '~')
        {
            escaped.Insert(0, '\\');
        }
        else
        {
            // "1." or "1)" at the start of a line would become an ordered list item.
            var digits = 0;
            while (digits < escaped.Length && char.IsAsciiDigit(escaped[digits]))
            {
                digits++;
            }

            if (digits > 0 && digits < escaped.Length && escaped[digits] is '.' or ')')
            {
                escaped.Insert(digits, '\\');
            }
        }

        return escaped.ToString();
    }
}
