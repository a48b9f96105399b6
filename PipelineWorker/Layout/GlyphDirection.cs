using Suite.PipelineWorker.Engines;

namespace Suite.PipelineWorker.Layout;

/// <summary>Where the tops of a page's glyphs point on the displayed page: north for upright text.</summary>
internal enum GlyphUp
{
    North,
    East,
    South,
    West,
}

/// <summary>
/// The text direction of a page pdftotext read, which its XHTML does not state. Assumed from the page's /Rotate (text
/// upright in user space, the usual case: rotating the page turns it), unless the lines disagree: a line of five or
/// more characters is longer along its text direction than across, so most lines wider than tall means horizontal text
/// (a landscape page drawn rotated to make up for its /Rotate), and vertical lines read down or up by their word order.
/// </summary>
internal static class GlyphDirection
{
    private const int MinLineCharacters = 5;

    public static GlyphUp Of(IReadOnlyList<PopplerLine> lines, int rotation)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var assumed = rotation switch
        {
            90 => GlyphUp.East,
            180 => GlyphUp.South,
            270 => GlyphUp.West,
            _ => GlyphUp.North,
        };
        int horizontal = 0, vertical = 0, readingDown = 0, readingUp = 0;
        foreach (var line in lines.Where(l => l.Words.Sum(w => w.Text.Length) >= MinLineCharacters))
        {
            if (line.XMax - line.XMin >= line.YMax - line.YMin)
            {
                horizontal++;
                continue;
            }

            vertical++;
            if (line.Words.Count >= 2)
            {
                // pdftotext measures y downwards: a later word further down reads top to bottom.
                if (line.Words[^1].YMin > line.Words[0].YMin)
                {
                    readingDown++;
                }
                else
                {
                    readingUp++;
                }
            }
        }

        var isHorizontal = horizontal >= vertical;
        if (horizontal + vertical == 0 || isHorizontal == assumed is GlyphUp.North or GlyphUp.South)
        {
            return assumed;
        }

        // Text reading downwards has its tops to the east (user space turned clockwise), upwards to the west.
        return isHorizontal ? GlyphUp.North : readingDown > readingUp ? GlyphUp.East : GlyphUp.West;
    }
}
