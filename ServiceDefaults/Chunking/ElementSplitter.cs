namespace Suite.Chunking;

/// <summary>
/// Cuts one element into pieces of at most a token budget: whole when it fits; a text at sentence ends (as many
/// sentences a piece as fit); a table between rows, its header rows repeated at the top of every part. A sentence or row
/// longer than the budget alone is cut by tokens, the last resort, and its pieces say so.
/// </summary>
internal sealed class ElementSplitter(TokenBudget tokens)
{
    public IEnumerable<ChunkPiece> Split(StructuralElement element, int budget) =>
        element.IsTable ? SplitTable(element, budget) : SplitText(element, budget);

    private IEnumerable<ChunkPiece> SplitText(StructuralElement element, int budget)
    {
        var text = element.Text;
        var whole = tokens.Count(text);
        if (whole <= budget)
        {
            yield return new ChunkPiece(element.Headings, text, [element.Source], null, whole);
            yield break;
        }

        // The piece being grown is text[start..end]; a sentence that does not fit starts the next one.
        int start = 0, end = 0;
        foreach (var sentenceEnd in SentenceSplitter.Ends(text))
        {
            var candidate = text[start..sentenceEnd].Trim();
            if (candidate.Length == 0)
            {
                continue;
            }

            if (tokens.Count(candidate) <= budget)
            {
                end = sentenceEnd;
                continue;
            }

            if (end > start && Piece(element, text[start..end], ChunkSplits.Sentences) is { } grown)
            {
                yield return grown;
                start = end;
            }

            var sentence = text[start..sentenceEnd].Trim();
            if (tokens.Count(sentence) <= budget)
            {
                end = sentenceEnd;
                continue;
            }

            foreach (var cut in tokens.CutByTokens(sentence, budget))
            {
                yield return new ChunkPiece(element.Headings, cut, [element.Source], ChunkSplits.Tokens, tokens.Count(cut));
            }

            start = end = sentenceEnd;
        }

        if (end > start && Piece(element, text[start..end], ChunkSplits.Sentences) is { } last)
        {
            yield return last;
        }
    }

    private IEnumerable<ChunkPiece> SplitTable(StructuralElement element, int budget)
    {
        var rows = element.Rows;
        var all = string.Join('\n', rows.Select(r => r.Text));
        var whole = tokens.Count(all);
        if (whole <= budget)
        {
            yield return new ChunkPiece(element.Headings, all, ChunkSource.Unite(rows.Select(r => r.Source)), null, whole);
            yield break;
        }

        // Header rows are repeated at the top of every part when they take at most half the budget; a table that is
        // all header, or whose header is bigger, has its header rows packed as ordinary rows.
        var header = element.HeaderRows < rows.Count ? rows.Take(element.HeaderRows).ToList() : [];
        if (header.Count > 0 && tokens.Count(RowsText(header, [])) > budget / 2)
        {
            header = [];
        }

        var body = rows.Skip(header.Count).ToList();
        var headerShown = header.Count == 0;
        var part = new List<TableRow>();
        foreach (var row in body)
        {
            if (tokens.Count(RowsText(header, [.. part, row])) <= budget)
            {
                part.Add(row);
                continue;
            }

            if (part.Count > 0)
            {
                yield return RowsPiece(element, header, part);
                headerShown = true;
                part = [];
            }

            if (tokens.Count(RowsText(header, [row])) <= budget)
            {
                part.Add(row);
                continue;
            }

            if (!headerShown)
            {
                // The header must be in some chunk even when no row fits beside it.
                yield return RowsPiece(element, header, []);
                headerShown = true;
            }

            if (tokens.Count(row.Text) <= budget)
            {
                // The header and this row do not fit together: the row alone, so that it stays whole.
                yield return RowsPiece(element, [], [row]);
            }
            else
            {
                foreach (var cut in tokens.CutByTokens(row.Text, budget))
                {
                    yield return new ChunkPiece(element.Headings, cut, [row.Source], ChunkSplits.Tokens, tokens.Count(cut));
                }
            }
        }

        if (part.Count > 0 || !headerShown)
        {
            yield return RowsPiece(element, header, part);
        }
    }

    private ChunkPiece RowsPiece(StructuralElement element, List<TableRow> header, List<TableRow> part)
    {
        var text = RowsText(header, part);
        return new ChunkPiece(element.Headings, text, ChunkSource.Unite(header.Concat(part).Select(r => r.Source)), ChunkSplits.Rows, tokens.Count(text));
    }

    private static string RowsText(List<TableRow> header, List<TableRow> rows) => string.Join('\n', header.Concat(rows).Select(r => r.Text));

    private ChunkPiece? Piece(StructuralElement element, string text, string split)
    {
        var trimmed = text.Trim();
        return trimmed.Length == 0 ? null : new ChunkPiece(element.Headings, trimmed, [element.Source], split, tokens.Count(trimmed));
    }
}
