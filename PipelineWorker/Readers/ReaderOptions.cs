namespace Suite.PipelineWorker.Readers;

/// <summary>
/// Limits of the non-PDF readers (section <c>Worker:Readers</c>), checked before anything is decoded or expanded, so a
/// hostile file ends with its own failure code within the stage's budget and with bounded memory. The page limit is
/// <c>Worker:Validate:MaxPages</c> for every format (image frames, slides, DOCX pages).
/// </summary>
internal sealed class ReaderOptions
{
    public const string Section = "Worker:Readers";

    /// <summary>An image frame with more pixels (width × height) is refused with <c>image_too_large</c> before it is decoded.</summary>
    public long MaxImagePixels { get; set; } = 100_000_000;

    /// <summary>An image wider or taller than this is refused with <c>image_too_large</c>.</summary>
    public int MaxImageSide { get; set; } = 30_000;

    /// <summary>ImageMagick's memory limit (its ResourceLimits.Memory; beyond it, it pages to disk, bounded by the area limit).</summary>
    public long MaxImageMemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Resolution assumed for an image that states none (or an implausible one, outside 36–2400 dpi): 300, because
    /// images sent for text recognition are mostly scans, and tesseract reads best when told a scanner's resolution.
    /// </summary>
    public double DefaultImageDpi { get; set; } = 300;

    /// <summary>A DOCX or PPTX with more entries in its zip directory is refused (<c>zip_bomb</c>).</summary>
    public int MaxZipEntries { get; set; } = 10_000;

    /// <summary>One zip entry may expand to at most this many bytes (declared and while reading).</summary>
    public long MaxZipEntryBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>All entries together may expand to at most this many bytes (declared and while reading).</summary>
    public long MaxZipTotalBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>An entry larger than 1 MiB that expands more than this many times its compressed size is a bomb.</summary>
    public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>HTML elements, Markdown block quotes and lists nested deeper than this are refused (<c>nesting_too_deep</c>).</summary>
    public int MaxNestingDepth { get; set; } = 256;

    /// <summary>At most this many elements (paragraphs, headings, items, cells) per document; more is refused (<c>too_many_elements</c>).</summary>
    public int MaxElements { get; set; } = 200_000;

    public IEnumerable<string> Validate()
    {
        if (MaxImagePixels is < 1_000_000 or > 10_000_000_000)
        {
            yield return $"{Section}:MaxImagePixels is {MaxImagePixels}; it must be between 1000000 and 10000000000.";
        }

        if (MaxImageSide is < 1_000 or > 1_000_000)
        {
            yield return $"{Section}:MaxImageSide is {MaxImageSide}; it must be between 1000 and 1000000.";
        }

        if (MaxImageMemoryBytes < 16L * 1024 * 1024)
        {
            yield return $"{Section}:MaxImageMemoryBytes must be at least 16 MiB.";
        }

        if (DefaultImageDpi is < 36 or > 2400)
        {
            yield return $"{Section}:DefaultImageDpi is {DefaultImageDpi}; it must be between 36 and 2400.";
        }

        if (MaxZipEntries < 1 || MaxZipEntryBytes < 1024 || MaxZipTotalBytes < MaxZipEntryBytes || MaxCompressionRatio < 10)
        {
            yield return $"{Section}: MaxZipEntries must be positive, MaxZipEntryBytes at least 1024, MaxZipTotalBytes at least MaxZipEntryBytes and MaxCompressionRatio at least 10.";
        }

        if (MaxNestingDepth is < 8 or > 100_000 || MaxElements < 100)
        {
            yield return $"{Section}: MaxNestingDepth must be between 8 and 100000 and MaxElements at least 100.";
        }
    }
}
