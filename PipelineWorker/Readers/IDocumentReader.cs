namespace Suite.PipelineWorker.Readers;

/// <summary>
/// Reads one input format into the model the later stages consume: validate asks it to check the file against its
/// limits and count its pages (<see cref="Probe"/>), extract asks it for the pages (<see cref="ReadPages"/>): for a
/// structured format (DOCX, PPTX, HTML, Markdown) each page carries its elements, for an image each frame is an empty
/// page that OCR reads. Every refusal is a <see cref="Stages.PipelineFailure"/> with a specific code. PDF keeps its own
/// path (Pdf/, PdfPig with poppler behind it), which the stages call directly.
/// </summary>
internal interface IDocumentReader
{
    /// <summary>The formats it reads (<see cref="Suite.Contracts.DocumentFormats"/>).</summary>
    IReadOnlyList<string> Formats { get; }

    /// <summary>Who reads it, for the pages' extractor (<see cref="Suite.Contracts.PageExtractors"/>).</summary>
    string Extractor { get; }

    /// <summary>Checks the file against the limits before reading it in full, and counts its pages (frames, slides).</summary>
    int Probe(string path, CancellationToken cancellationToken);

    /// <summary>The pages in order (numbered from 1), one at a time.</summary>
    IEnumerable<Stages.ExtractedPage> ReadPages(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the bytes of an embedded picture (<see cref="Stages.StructuredPicture.Part"/>) to <paramref name="destination"/>,
    /// bounded; returns its content type, or null when it is not there or not an image type the result can serve.
    /// </summary>
    string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken) => null;
}
