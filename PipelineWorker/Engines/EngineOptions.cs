namespace Suite.PipelineWorker.Engines;

/// <summary>Where the external engines are (section <c>Pipeline:Engines</c>) and how their breakers behave.</summary>
internal sealed class EngineOptions
{
    public const string Section = "Pipeline:Engines";

    /// <summary>poppler's pdftoppm: a name looked up on PATH, or a path.</summary>
    public string PdftoppmPath { get; set; } = "pdftoppm";

    /// <summary>tesseract: a name looked up on PATH, or a path.</summary>
    public string TesseractPath { get; set; } = "tesseract";

    /// <summary>poppler's pdftotext (text of the pages PdfPig cannot read): a name looked up on PATH, or a path.</summary>
    public string PdftotextPath { get; set; } = "pdftotext";

    /// <summary>poppler's pdfinfo (page count and page boxes when PdfPig cannot read them): a name or a path.</summary>
    public string PdfinfoPath { get; set; } = "pdfinfo";

    /// <summary>How long the start-up probe (<c>pdftoppm -v</c>, <c>tesseract --version</c>, ...) may take.</summary>
    public int ProbeTimeoutSeconds { get; set; } = 10;

    /// <summary>Consecutive-failure breaker of each engine: failures within <see cref="BreakerSamplingSeconds"/>...</summary>
    public int BreakerMinimumThroughput { get; set; } = 5;

    public double BreakerFailureRatio { get; set; } = 0.8;

    public int BreakerSamplingSeconds { get; set; } = 30;

    /// <summary>...open it for this long; then one call probes (half-open).</summary>
    public int BreakerBreakSeconds { get; set; } = 30;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(PdftoppmPath))
        {
            yield return "Pipeline:Engines:PdftoppmPath must not be empty.";
        }

        if (string.IsNullOrWhiteSpace(TesseractPath))
        {
            yield return "Pipeline:Engines:TesseractPath must not be empty.";
        }

        if (string.IsNullOrWhiteSpace(PdftotextPath) || string.IsNullOrWhiteSpace(PdfinfoPath))
        {
            yield return "Pipeline:Engines:PdftotextPath and PdfinfoPath must not be empty.";
        }

        if (ProbeTimeoutSeconds is < 1 or > 120)
        {
            yield return "Pipeline:Engines:ProbeTimeoutSeconds must be between 1 and 120.";
        }

        if (BreakerMinimumThroughput < 2 || BreakerFailureRatio is <= 0 or > 1 || BreakerSamplingSeconds < 1 || BreakerBreakSeconds < 1)
        {
            yield return "Pipeline:Engines breaker settings: MinimumThroughput >= 2, 0 < FailureRatio <= 1, SamplingSeconds >= 1, BreakSeconds >= 1.";
        }
    }
}
