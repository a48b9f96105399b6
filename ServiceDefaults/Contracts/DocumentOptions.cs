using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Suite.Contracts;

/// <summary>
/// The pipeline options of one document, chosen by the client at upload (multipart form fields or members of the URL
/// upload's JSON body) and fixed for the document's life: IngestService validates and stores them, hands them to the
/// worker with every claim, and the worker's stages follow them. Every property holds its default when the client left
/// it out, except <see cref="OcrLanguages"/> (null: the workers' <c>Pipeline:Ocr:Language</c>) and
/// <see cref="PageRange"/> (null: every page). Values are kept in their canonical form (see <see cref="Suite.Contracts.PageRange"/>).
/// </summary>
public sealed record DocumentOptions
{
    public const string OcrField = "ocr";
    public const string OcrLanguagesField = "ocrLanguages";
    public const string PageRangeField = "pageRange";
    public const string ImagesField = "images";
    public const string TablesField = "tables";
    public const string DescribePicturesField = "describePictures";
    public const string ChunksField = "chunks";

    /// <summary>Every option's name, as the client writes it (matched without case).</summary>
    public static readonly IReadOnlyList<string> Fields = [OcrField, OcrLanguagesField, PageRangeField, ImagesField, TablesField, DescribePicturesField, ChunksField];

    public static readonly IReadOnlyList<string> OcrModes = [OcrMode.Auto, OcrMode.Force, OcrMode.Off];
    public static readonly IReadOnlyList<string> ImageModes = [ImageMode.Referenced, ImageMode.Embedded, ImageMode.None];
    public static readonly IReadOnlyList<string> Switches = [Switch.On, Switch.Off];
    public static readonly IReadOnlyList<string> ChunkModes = [ChunkMode.Off, ChunkMode.Hybrid, ChunkMode.Hierarchical];

    /// <summary>Every option at its default: what documents from before options were processed with.</summary>
    public static DocumentOptions Default { get; } = new();

    /// <summary><c>auto</c>: OCR pages without a usable text layer; <c>force</c>: OCR every page, its words replacing the text layer; <c>off</c>: no OCR.</summary>
    public string Ocr { get; init; } = OcrMode.Auto;

    /// <summary>tesseract language codes joined with <c>+</c> (<c>eng+deu</c>); null: the workers' configured language.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OcrLanguages { get; init; }

    /// <summary>The pages to process in canonical form (<c>1,4-6,9-</c>); null: all.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PageRange { get; init; }

    /// <summary><c>referenced</c>: pictures by URL; <c>embedded</c>: pictures as data: URIs; <c>none</c>: no pictures.</summary>
    public string Images { get; init; } = ImageMode.Referenced;

    public string Tables { get; init; } = Switch.On;

    public string DescribePictures { get; init; } = Switch.On;

    /// <summary>
    /// The chunking strategy whose chunks IngestService computes when the result is stored (docs/chunks.md), with the
    /// configured defaults; null: none precomputed (<c>off</c>). Chunks can be asked for either way; not in the
    /// <see cref="Fingerprint"/>, since no stage depends on it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Chunks { get; init; }

    /// <summary>
    /// A short hash of the options in canonical form: part of every checkpoint's key, so that processing never resumes
    /// from a checkpoint made under other options (Req FMT-4).
    /// </summary>
    public string Fingerprint()
    {
        var canonical = string.Join('\n', Ocr, OcrLanguages ?? "", PageRange ?? "", Images, Tables, DescribePictures);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    public string ToJson() => JsonSerializer.Serialize(this, DocumentResult.JsonOptions);

    /// <summary>Options as the catalog stores them; null or empty (a document from before options) is <see cref="Default"/>.</summary>
    public static DocumentOptions FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? Default : JsonSerializer.Deserialize<DocumentOptions>(json, DocumentResult.JsonOptions) ?? Default;
}

public static class OcrMode
{
    public const string Auto = "auto";
    public const string Force = "force";
    public const string Off = "off";
}

public static class ImageMode
{
    public const string Referenced = "referenced";
    public const string Embedded = "embedded";
    public const string None = "none";
}

/// <summary>The values of the <c>chunks</c> option: off, or the strategy to precompute.</summary>
public static class ChunkMode
{
    public const string Off = "off";
    public const string Hybrid = "hybrid";
    public const string Hierarchical = "hierarchical";
}

public static class Switch
{
    public const string On = "on";
    public const string Off = "off";
}
