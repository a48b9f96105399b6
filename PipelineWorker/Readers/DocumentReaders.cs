using Suite.Contracts;

namespace Suite.PipelineWorker.Readers;

/// <summary>The reader of each non-PDF format (registered in DI); null for PDF, which the stages read through Pdf/.</summary>
internal sealed class DocumentReaders(IEnumerable<IDocumentReader> readers)
{
    private readonly Dictionary<string, IDocumentReader> _byFormat = readers.SelectMany(r => r.Formats.Select(f => (Format: f, Reader: r))).ToDictionary(r => r.Format, r => r.Reader, StringComparer.Ordinal);

    public IDocumentReader? For(string format) => _byFormat.GetValueOrDefault(format);

    /// <summary>Whether a format's pages are images (one frame a page) that render and OCR take from the file itself.</summary>
    public static bool IsImage(string format) => format is DocumentFormats.Png or DocumentFormats.Jpeg or DocumentFormats.Tiff or DocumentFormats.Webp;
}
