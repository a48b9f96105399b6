using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>The reader of each format (registered in DI): one per format, PDF's included.</summary>
internal sealed class DocumentReaders(IEnumerable<IDocumentReader> readers)
{
    private readonly Dictionary<string, IDocumentReader> _byFormat = readers.SelectMany(r => r.Formats.Select(f => (Format: f, Reader: r))).ToDictionary(r => r.Format, r => r.Reader, StringComparer.Ordinal);

    public IDocumentReader For(string format) =>
        _byFormat.GetValueOrDefault(format) ?? throw new PipelineFailure(FailureCodes.UnsupportedFormat, $"No reader is registered for the format '{format}'.");

    /// <summary>Whether a format's pages are images (one frame a page) that render and OCR take from the file itself.</summary>
    public static bool IsImage(string format) => format is DocumentFormats.Png or DocumentFormats.Jpeg or DocumentFormats.Tiff or DocumentFormats.Webp;
}
