using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Layout;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// Maps pdftotext's word boxes into the model's convention, the one PdfPig's words have: points on the displayed page
/// (rotation applied) with the origin at the bottom-left corner of the crop box. pdftotext measures from the top-left
/// corner of the displayed <em>media</em> box, so a point (x, y) of it is (x - <see cref="OffsetX"/>,
/// <see cref="Top"/> - y) here. <see cref="Width"/> × <see cref="Height"/> is the displayed crop box;
/// <see cref="Rotation"/> the page's /Rotate (0, 90, 180 or 270).
/// </summary>
internal sealed record PageFrame(double Width, double Height, double OffsetX, double Top, int Rotation)
{
    // pdftotext's box spans the font's ascent to its descent; PdfPig's spans the glyphs from the baseline up. Measured
    // on corpus files (LibreOffice, pdflatex, Google Docs, Federal Register; 6000 words): the baseline lies 19-25 % of
    // the box height above its bottom, the glyph tops 0-17 % below its top. With 22 % and 8 % the baselines land within
    // 0.5 pt of PdfPig's, the tops within 1 pt for most words (a word without ascenders is lower in PdfPig).
    private const double BaselineShare = 0.22;
    private const double AscentGapShare = 0.08;

    /// <summary>The frame of a page with these boxes (user space) and /Rotate (any multiple of 90, negative allowed).</summary>
    public static PageFrame Of(PageBox media, PageBox crop, int rotation)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(crop);
        var turn = ((rotation % 360) + 360) % 360;
        // Each case: where the crop box's displayed bottom-left corner sits in pdftotext's top-left-based media frame.
        return turn switch
        {
            90 => new PageFrame(crop.Height, crop.Width, crop.Bottom - media.Bottom, crop.Right - media.Left, turn),
            180 => new PageFrame(crop.Width, crop.Height, media.Right - crop.Right, crop.Top - media.Bottom, turn),
            270 => new PageFrame(crop.Height, crop.Width, media.Top - crop.Top, media.Right - crop.Left, turn),
            _ => new PageFrame(crop.Width, crop.Height, crop.Left - media.Left, media.Top - crop.Bottom, 0),
        };
    }

    /// <summary>A page's pdftotext words as extracted words: moved into this frame and narrowed to the glyphs; no font name.</summary>
    public IEnumerable<ExtractedWord> ToWords(IReadOnlyList<PopplerLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var up = GlyphDirection.Of(lines, Rotation);
        return lines.SelectMany(l => l.Words).Select(w => ToWord(w, up));
    }

    private ExtractedWord ToWord(PopplerWord word, GlyphUp up)
    {
        var (left, right) = (word.XMin - OffsetX, word.XMax - OffsetX);
        var (bottom, top) = (Top - word.YMax, Top - word.YMin);
        var (width, height) = (right - left, top - bottom);
        // The baseline is on the side the glyphs' tops point away from.
        (left, bottom, right, top) = up switch
        {
            GlyphUp.East => (left + (BaselineShare * width), bottom, right - (AscentGapShare * width), top),
            GlyphUp.South => (left, bottom + (AscentGapShare * height), right, top - (BaselineShare * height)),
            GlyphUp.West => (left + (AscentGapShare * width), bottom, right - (BaselineShare * width), top),
            _ => (left, bottom + (BaselineShare * height), right, top - (AscentGapShare * height)),
        };
        return new ExtractedWord(
            ExtractStage.CleanText(word.Text),
            Checkpoints.Round(left),
            Checkpoints.Round(bottom),
            Checkpoints.Round(right),
            Checkpoints.Round(top),
            null,
            // The ascent-to-descent extent is about one em (0.86-1.13 of the font size on the corpus).
            Checkpoints.Round(up is GlyphUp.East or GlyphUp.West ? width : height));
    }
}
