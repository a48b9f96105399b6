using Microsoft.ML.Tokenizers;

namespace Suite.Chunking;

/// <summary>Token counting and the last-resort cut of a text longer than a budget, by one tokenizer.</summary>
internal sealed class TokenBudget(Tokenizer tokenizer)
{
    public int Count(string text) => tokenizer.CountTokens(text);

    /// <summary>
    /// Cuts <paramref name="text"/> into pieces of at most <paramref name="budget"/> tokens each, at the last white space
    /// before the limit when there is one in the second half of the piece (so words stay whole), else right at the
    /// token boundary. Each piece is counted again alone, since a cut can change how its end is tokenized.
    /// </summary>
    public IEnumerable<string> CutByTokens(string text, int budget)
    {
        var rest = text.Trim();
        while (rest.Length > 0)
        {
            if (Count(rest) <= budget)
            {
                yield return rest;
                yield break;
            }

            var limit = budget;
            string piece;
            int cut;
            while (true)
            {
                var index = tokenizer.GetIndexByTokenCount(rest, limit, out _, out _);
                cut = Math.Clamp(index, 1, rest.Length);
                var space = rest.LastIndexOfAny([' ', '\n', '\t'], cut - 1);
                if (space > cut / 2)
                {
                    cut = space;
                }
                else if (cut < rest.Length && char.IsHighSurrogate(rest[cut - 1]) && cut > 1)
                {
                    cut--;
                }

                piece = rest[..cut].Trim();
                if (piece.Length > 0 && Count(piece) <= budget || limit <= 1)
                {
                    break;
                }

                limit--;
            }

            if (piece.Length > 0)
            {
                yield return piece;
            }

            rest = rest[cut..].TrimStart();
        }
    }

    /// <summary>
    /// The end of <paramref name="text"/> of at most <paramref name="budget"/> tokens, starting at a word; empty when
    /// not even one word fits.
    /// </summary>
    public string Tail(string text, int budget)
    {
        if (budget <= 0 || text.Length == 0)
        {
            return "";
        }

        var start = tokenizer.GetIndexByTokenCountFromEnd(text, budget, out _, out _);
        start = Math.Clamp(start, 0, text.Length);
        if (start > 0 && !char.IsWhiteSpace(text[start - 1]))
        {
            var space = text.IndexOfAny([' ', '\n', '\t'], start);
            start = space < 0 ? text.Length : space;
        }

        // Alone, the tail can tokenize differently at its start: words off the front until it fits.
        var tail = text[start..].Trim();
        while (tail.Length > 0 && Count(tail) > budget)
        {
            var space = tail.IndexOfAny([' ', '\n', '\t']);
            tail = space < 0 ? "" : tail[space..].TrimStart();
        }

        return tail;
    }
}
