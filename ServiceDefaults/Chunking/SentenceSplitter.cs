namespace Suite.Chunking;

/// <summary>
/// Cuts text at sentence ends (., !, ?, … with optional closing quotes or brackets, then white space) and at line
/// breaks (which end list lines, code lines and table-like lines too). The pieces cover the text: joined in order they
/// give it back, white space at the cuts aside.
/// </summary>
internal static class SentenceSplitter
{
    /// <summary>The end offsets of the sentences of <paramref name="text"/> (the last is its length).</summary>
    public static IEnumerable<int> Ends(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                yield return i + 1;
                continue;
            }

            if (c is not ('.' or '!' or '?' or '…'))
            {
                continue;
            }

            var end = i + 1;
            while (end < text.Length && text[end] is '"' or '\'' or ')' or ']' or '’' or '”')
            {
                end++;
            }

            // "3.14" or "e.g.x" are no sentence end: one needs white space after it.
            if (end < text.Length && char.IsWhiteSpace(text[end]))
            {
                yield return end;
                i = end - 1;
            }
        }

        yield return text.Length;
    }
}
