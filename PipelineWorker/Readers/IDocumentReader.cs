namespace Suite.PipelineWorker.Readers;

/// <summary>
/// Reads one input format into the model the later stages consume, so that the stages stay format-agnostic: validate
/// asks it to check the file and count its pages (<see cref="ValidateAsync"/>), extract asks it to write the pages
/// (<see cref="ExtractAsync"/>): a PDF's words (PdfPig, poppler behind it), an image's frames as pages without words
/// that OCR reads, a structured document's (DOCX, PPTX, HTML, Markdown) pages with their elements. Every refusal is a
/// <see cref="Stages.PipelineFailure"/> with a specific code.
/// </summary>
internal interface IDocumentReader
{
    /// <summary>The formats it reads (<see cref="Suite.Contracts.DocumentFormats"/>).</summary>
    IReadOnlyList<string> Formats { get; }

    /// <summary>
    /// Checks the file (<paramref name="sizeBytes"/> long, already within the size limit) against its format's limits
    /// before reading it in full, and counts its pages (frames, slides): the validate checkpoint, its format set.
    /// </summary>
    Task<Stages.ValidateCheckpoint> ValidateAsync(string path, long sizeBytes, string format, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the extract checkpoint (<see cref="Stages.StageContext.CheckpointPath"/>): the pages of the request's
    /// pageRange in order, one at a time, of the <paramref name="pageCount"/> validate counted. Completed, or degraded
    /// with the pages it could not read as they should be.
    /// </summary>
    Task<Stages.StageResult> ExtractAsync(Stages.StageContext context, int pageCount, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the bytes of an embedded picture (<see cref="Stages.StructuredPicture.Part"/>) to <paramref name="destination"/>,
    /// bounded; returns its content type, or null when it is not there or not an image type the result can serve.
    /// </summary>
    string? CopyPicture(string path, string part, string destination, CancellationToken cancellationToken) => null;
}
