using System.ComponentModel.DataAnnotations;

namespace IngestService.Ocr;

/// <summary>
/// Where ingest learns which tesseract languages the workers have (section <c>Ocr</c>): <see cref="Languages"/> when
/// set (a deployment where ingest runs apart from the workers lists theirs), else <c>tesseract --list-langs</c> run here.
/// </summary>
internal sealed class OcrLanguageOptions
{
    public const string Section = "Ocr";

    /// <summary>The languages the workers have installed; empty: ask the local tesseract.</summary>
    public IList<string> Languages { get; } = [];

    /// <summary>The tesseract executable asked for its languages.</summary>
    [Required]
    public string TesseractPath { get; set; } = "tesseract";

    /// <summary>How long the list from tesseract is kept before it is asked again.</summary>
    [Range(1, 86_400)]
    public int CacheSeconds { get; set; } = 300;

    /// <summary>How long <c>tesseract --list-langs</c> may take.</summary>
    [Range(1, 120)]
    public int ListTimeoutSeconds { get; set; } = 10;
}
