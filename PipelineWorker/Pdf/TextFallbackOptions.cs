namespace Suite.PipelineWorker.Pdf;

/// <summary>
/// The poppler text fallback of validate and extract (section <c>Pipeline:TextFallback</c>): what PdfPig cannot
/// open, or a page where it cannot read or finds no text, is read by pdfinfo / pdftotext instead.
/// </summary>
internal sealed class TextFallbackOptions
{
    public const string Section = "Pipeline:TextFallback";

    /// <summary>Off: PdfPig alone, as before (a file it cannot open is refused, a page it cannot read stays empty).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>One pdftotext or pdfinfo run may take this long; then its process group is killed.</summary>
    public int PageTimeoutSeconds { get; set; } = 30;

    public IEnumerable<string> Validate()
    {
        if (PageTimeoutSeconds is < 1 or > 3600)
        {
            yield return $"{Section}:PageTimeoutSeconds is {PageTimeoutSeconds}; it must be between 1 and 3600.";
        }
    }
}
