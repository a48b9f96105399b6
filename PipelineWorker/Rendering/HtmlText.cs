using System.Text;

namespace Suite.PipelineWorker.Rendering;

/// <summary>
/// Text written into the HTML rendering: every character a parser could read as markup is escaped, in element
/// content and in quoted attribute values alike, so a PDF's text (which anyone could have written) is only ever text.
/// Characters HTML5 does not allow in a document (controls other than tab, line feed and form feed; noncharacters;
/// unpaired surrogates) become U+FFFD, so the page stays free of parse errors.
/// </summary>
internal static class HtmlText
{
    private const char Replacement = '\uFFFD';

    public static StringBuilder AppendEncoded(this StringBuilder html, string text)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '&':
                    html.Append("&amp;");
                    break;
                case '<':
                    html.Append("&lt;");
                    break;
                case '>':
                    html.Append("&gt;");
                    break;
                case '"':
                    html.Append("&quot;");
                    break;
                case '\'':
                    html.Append("&#39;");
                    break;
                case '\r':
                    html.Append('\n');
                    break;
                case '\t' or '\n' or '\f':
                    html.Append(c);
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        var scalar = char.ConvertToUtf32(c, text[i + 1]);
                        html.Append(IsNoncharacter(scalar) ? Replacement.ToString() : text.Substring(i, 2));
                        i++;
                    }
                    else if (char.IsSurrogate(c) || c < ' ' || (c >= '\u007F' && c <= '\u009F') || IsNoncharacter(c))
                    {
                        html.Append(Replacement);
                    }
                    else
                    {
                        html.Append(c);
                    }

                    break;
            }
        }

        return html;
    }

    /// <summary>U+FDD0..U+FDEF and the last two code points of every plane.</summary>
    private static bool IsNoncharacter(int scalar) => scalar is >= 0xFDD0 and <= 0xFDEF || (scalar & 0xFFFE) == 0xFFFE;
}
