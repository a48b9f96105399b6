using System.Text.Json;
using System.Text.Json.Serialization;
using Suite.Contracts;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// The checkpoint formats. They are compact JSON (short property names, rounded coordinates) because they are
/// stored for every document and moved over HTTP after every stage.
/// </summary>
internal static class Checkpoints
{
    /// <summary>
    /// 3: validate records the document's format; pages of structured formats (DOCX, PPTX, HTML, Markdown) carry the
    /// elements their reader found (<see cref="ExtractedPage.Elements"/>). 2: pages say which reader read them (PdfPig or
    /// poppler) and carry their form fields; validate says which reader counted the pages.
    /// </summary>
    public const int FormatVersion = 3;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Rounds a coordinate to 1/100 pt: enough for layout, and keeps checkpoints small.</summary>
    public static double Round(double value) => Math.Round(value, 2);

    /// <summary>
    /// Writes a checkpoint through a temporary file and a rename, so a crash or cancellation never leaves a
    /// half-written checkpoint where a complete one is expected.
    /// </summary>
    public static async Task WriteAtomicallyAsync(string path, Func<Stream, Task> write)
    {
        var temp = path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await write(stream);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static async Task<T?> ReadAsync<T>(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<T>(stream, JsonOptions, cancellationToken);
    }
}

/// <summary>
/// Checkpoint of <c>validate</c>: what we learnt about the file. <see cref="Format"/> is what its content is
/// (<see cref="DocumentFormats"/>, by magic bytes); <see cref="Reader"/> is who read its structure: <c>pdfpig</c>, or
/// <c>poppler</c> (pdfinfo) when PdfPig could not, or the reader of a non-PDF format. <see cref="PageCount"/> counts
/// pages, image frames or slides.
/// </summary>
internal sealed record ValidateCheckpoint(int Version, int PageCount, long SizeBytes, string PdfVersion, bool Encrypted, string Reader = PageExtractors.Pdfpig, string Format = DocumentFormats.Pdf);

/// <summary>
/// One page of the <c>extract</c> checkpoint (a JSON array of these, written page by page). <see cref="Extractor"/> is
/// who read the words (<c>pdfpig</c>, <c>poppler</c>; null when nobody could, see <see cref="Error"/>), with
/// <see cref="FallbackReason"/> saying why PdfPig's reading was not used. <see cref="FormFields"/> are the document's
/// form fields whose widget is on this page (fields without a page are on page 1), so the array stays the only format.
/// </summary>
internal sealed record ExtractedPage(
    [property: JsonPropertyName("n")] int Number,
    [property: JsonPropertyName("w")] double Width,
    [property: JsonPropertyName("h")] double Height,
    [property: JsonPropertyName("words")] IReadOnlyList<ExtractedWord> Words,
    [property: JsonPropertyName("error")] string? Error = null,
    [property: JsonPropertyName("x")] string? Extractor = null,
    [property: JsonPropertyName("why")] string? FallbackReason = null,
    [property: JsonPropertyName("forms")] IReadOnlyList<ExtractedFormField>? FormFields = null,
    [property: JsonPropertyName("els")] IReadOnlyList<StructuredElement>? Elements = null)
{
    /// <summary>
    /// Whether the page came with its structure (a DOCX, PPTX, HTML or Markdown reader found its elements): later
    /// stages then pass those elements through instead of analysing words.
    /// </summary>
    [JsonIgnore]
    public bool IsStructured => Elements is not null;
}

/// <summary>An AcroForm field: full name, value as text, kind (text, checkbox, radio, choice, signature), page of its widget.</summary>
internal sealed record ExtractedFormField(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("page")] int? Page);

/// <summary>A word with its box (PDF points, origin bottom-left), font name and size.</summary>
internal sealed record ExtractedWord(
    [property: JsonPropertyName("t")] string Text,
    [property: JsonPropertyName("l")] double Left,
    [property: JsonPropertyName("b")] double Bottom,
    [property: JsonPropertyName("r")] double Right,
    [property: JsonPropertyName("u")] double Top,
    [property: JsonPropertyName("f")] string? Font,
    [property: JsonPropertyName("s")] double Size);
