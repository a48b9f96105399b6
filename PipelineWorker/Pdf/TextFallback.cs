using Microsoft.Extensions.Options;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// How validate and extract ask poppler when PdfPig fails them, so that a document poppler can read is never refused
/// or failed because PdfPig cannot. A poppler that cannot read the file either, or is not installed, leaves PdfPig's
/// verdict standing; a poppler that timed out or whose breaker is open makes the attempt transient (the job is retried)
/// rather than refusing a file that may well be readable.
/// </summary>
internal sealed class TextFallback(PopplerText poppler, IOptions<TextFallbackOptions> options)
{
    /// <summary>Pages whose boxes one pdfinfo run reports (bounds its output).</summary>
    public const int FrameChunk = 100;

    public bool Enabled => options.Value.Enabled;

    private TimeSpan Timeout => TimeSpan.FromSeconds(options.Value.PageTimeoutSeconds);

    /// <summary>
    /// pdfinfo's view of a file PdfPig refused: the report when poppler reads at least one page; null when the fallback
    /// is off, poppler is not installed, or cannot read the file (<paramref name="why"/> says which).
    /// </summary>
    public async Task<(PdfinfoReport? Report, string? Why)> DescribeAsync(string pdfPath, string stage, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return (null, "the poppler fallback is switched off (Pipeline:TextFallback:Enabled=false)");
        }

        try
        {
            var report = await poppler.DescribeAsync(pdfPath, null, Timeout, cancellationToken);
            return report.PageCount > 0 ? (report, null) : (null, "pdfinfo finds no pages either");
        }
        catch (EngineException ex) when (ex.Kind is EngineFailureKind.Timeout or EngineFailureKind.CircuitOpen)
        {
            throw new TransientStageException(stage, $"PdfPig cannot read the file and poppler could not be asked ({ex.Message}); the job will be retried.", ex);
        }
        catch (EngineException ex) when (ex.Kind == EngineFailureKind.Unreadable)
        {
            return (null, "pdfinfo cannot read it either");
        }
        catch (EngineException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>The frames of pages <paramref name="first"/>..<paramref name="last"/> from pdfinfo (pages it does not report are missing).</summary>
    public async Task<IReadOnlyDictionary<int, PageFrame>> FramesAsync(string pdfPath, int first, int last, CancellationToken cancellationToken)
    {
        var report = await poppler.DescribeAsync(pdfPath, (first, last), Timeout, cancellationToken);
        return report.Pages.Values.ToDictionary(p => p.Number, p => PageFrame.Of(p.MediaBox, p.CropBox, p.Rotation));
    }

    /// <summary>The words pdftotext finds on a page, in the model's convention (<paramref name="frame"/>), blank ones dropped.</summary>
    public async Task<List<ExtractedWord>> ReadPageAsync(string pdfPath, int pageNumber, PageFrame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var lines = await poppler.ReadPageAsync(pdfPath, pageNumber, Timeout, cancellationToken);
        return frame.ToWords(lines).Where(w => !string.IsNullOrWhiteSpace(w.Text)).ToList();
    }
}
