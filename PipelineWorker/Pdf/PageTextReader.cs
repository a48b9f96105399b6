using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Stages;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;

namespace Suite.PipelineWorker.Pdf;

/// <summary>One page as extract records it, and whether its text is missing only for a passing reason (poppler timed out or its breaker was open).</summary>
internal sealed record PageRead(ExtractedPage Page, bool TransientMiss);

/// <summary>
/// Reads extract's pages: PdfPig first; poppler's pdftotext for a page when PdfPig could not open the document, could
/// not read the page, or found no readable text on it (no letter or digit) where poppler does. poppler's boxes are
/// placed with the page's boxes and rotation from PdfPig when it has the page, else from pdfinfo (a chunk of pages per
/// run). A page that neither can read keeps PdfPig's error, with poppler's added.
/// </summary>
internal sealed class PageTextReader(PdfDocument? document, string? openError, string pdfPath, TextFallback fallback, int pageCount)
{
    private IReadOnlyDictionary<int, PageFrame> _frames = new Dictionary<int, PageFrame>();
    private (int First, int Last) _framesAsked = (0, -1);

    /// <summary>Whether a page's words say anything: a letter or digit somewhere (a page of stray symbols does not).</summary>
    public static bool HasReadableText(IEnumerable<ExtractedWord> words) => words.Any(w => w.Text.Any(char.IsLetterOrDigit));

    public async Task<PageRead> ReadAsync(int number, CancellationToken cancellationToken)
    {
        var (page, frame, problem) = ReadWithPdfPig(number);
        if (problem is null || !fallback.Enabled)
        {
            return new PageRead(page, false);
        }

        try
        {
            frame ??= await FrameAsync(number, cancellationToken)
                ?? throw new EngineException(EngineFailureKind.Unreadable, $"pdfinfo does not report page {number}");
            var words = await fallback.ReadPageAsync(pdfPath, number, frame, cancellationToken);
            if (page.Error is null && !HasReadableText(words))
            {
                // A scan, most likely: poppler sees no more than PdfPig did, and OCR will have a go.
                return new PageRead(page, false);
            }

            var (width, height) = page.Error is null ? (page.Width, page.Height) : (Checkpoints.Round(frame.Width), Checkpoints.Round(frame.Height));
            return new PageRead(new ExtractedPage(number, width, height, words, null, PageExtractors.Poppler, problem), false);
        }
        catch (EngineException ex)
        {
            var passing = ex.Kind is EngineFailureKind.Timeout or EngineFailureKind.CircuitOpen;
            return page.Error is null
                ? new PageRead(page, false)
                : new PageRead(page with { Error = $"{page.Error}; poppler: {ex.Message}" }, passing);
        }
    }

    /// <summary>PdfPig's reading of the page, the frame of its boxes, and why poppler should be asked (null: no need).</summary>
    private (ExtractedPage Page, PageFrame? Frame, string? Problem) ReadWithPdfPig(int number)
    {
        if (document is null)
        {
            return (new ExtractedPage(number, 0, 0, [], openError), null, $"PdfPig cannot open the document ({openError})");
        }

        try
        {
            var page = document.GetPage(number);
            var words = page.GetWords(NearestNeighbourWordExtractor.Instance)
                .Select(ExtractStage.ToExtracted)
                .Where(w => !string.IsNullOrWhiteSpace(w.Text))
                .ToList();
            var frame = PageFrame.Of(Box(page.MediaBox.Bounds), Box(page.CropBox.Bounds), page.Rotation.Value);
            var extracted = new ExtractedPage(number, Checkpoints.Round(page.Width), Checkpoints.Round(page.Height), words, null, PageExtractors.Pdfpig);
            return (extracted, frame, HasReadableText(words) ? null : "PdfPig finds no text on the page");
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            var error = PdfOpening.Describe(ex);
            return (new ExtractedPage(number, 0, 0, [], error), null, $"PdfPig cannot read the page ({error})");
        }
    }

    /// <summary>The page's frame from pdfinfo, asking for the next chunk of pages when it is not known yet.</summary>
    private async Task<PageFrame?> FrameAsync(int number, CancellationToken cancellationToken)
    {
        if (!_frames.TryGetValue(number, out var frame) && (number < _framesAsked.First || number > _framesAsked.Last))
        {
            var last = Math.Max(number, Math.Min(pageCount, number + TextFallback.FrameChunk - 1));
            _frames = await fallback.FramesAsync(pdfPath, number, last, cancellationToken);
            _framesAsked = (number, last);
            _frames.TryGetValue(number, out frame);
        }

        return frame;
    }

    private static PageBox Box(PdfRectangle r) =>
        new(Math.Min(r.Left, r.Right), Math.Min(r.Bottom, r.Top), Math.Max(r.Left, r.Right), Math.Max(r.Bottom, r.Top));
}
