using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Suite.Contracts;

/// <summary>
/// The input formats the suite reads, and how a file's format is recognised: by its bytes, never by its name or a
/// declared content type (Req IN-1). Ingest uses it to accept an upload, the worker to pick the reader, so both always
/// agree. Binary formats by their magic bytes at offset 0 (a PDF's "%PDF-" anywhere in the first 1024 bytes, as PDF
/// readers tolerate junk before it); DOCX and PPTX by their zip container's parts; HTML and Markdown, which have no
/// magic bytes, as UTF-8 text that shows HTML's document tags or at least one Markdown construct in its first
/// <see cref="HeadBytes"/> bytes. Plain text without any structure is not taken (there is nothing to structure).
/// </summary>
public static partial class DocumentFormats
{
    public const string Pdf = "pdf";
    public const string Png = "png";
    public const string Jpeg = "jpeg";
    public const string Tiff = "tiff";
    public const string Webp = "webp";
    public const string Docx = "docx";
    public const string Pptx = "pptx";
    public const string Html = "html";
    public const string Markdown = "markdown";

    /// <summary>How much of the start of a file recognition looks at (the text heuristics read no further).</summary>
    public const int HeadBytes = 8192;

    /// <summary>Within how many leading bytes a PDF's header may sit.</summary>
    public const int PdfHeaderWindow = 1024;

    /// <summary>Central directories with more entries than this are not looked into (an Office file has tens).</summary>
    public const int MaxContainerEntries = 10_000;

    private static ReadOnlySpan<byte> PngMagic => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> JpegMagic => [0xFF, 0xD8, 0xFF];

    /// <summary>The result of <see cref="Sniff"/> for a zip archive whose parts still need looking at.</summary>
    internal const string ZipContainer = "zip";

    public static IReadOnlyList<string> All { get; } = [Pdf, Png, Jpeg, Tiff, Webp, Docx, Pptx, Html, Markdown];

    /// <summary>The image formats: one page per frame, read by OCR.</summary>
    public static bool IsImage(string format) => format is Png or Jpeg or Tiff or Webp;

    /// <summary>The format of the file at <paramref name="path"/>, or null when it is none the suite reads.</summary>
    public static string? Detect(string path)
    {
        var head = new byte[HeadBytes];
        int length;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
        {
            length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        var sniffed = Sniff(head.AsSpan(0, length));
        return sniffed == ZipContainer ? OfficeFormat(path) : sniffed;
    }

    /// <summary>
    /// What the first bytes of a file say: a format, <see cref="ZipContainer"/> for a zip archive (DOCX, PPTX or neither:
    /// <see cref="Detect"/> looks inside), or null. Give it the first <see cref="HeadBytes"/> bytes, or the whole file when
    /// shorter.
    /// </summary>
    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("%PDF-"u8))
        {
            return Pdf;
        }

        if (head.StartsWith(PngMagic))
        {
            return Png;
        }

        if (head.StartsWith(JpegMagic))
        {
            return Jpeg;
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return Tiff;
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return Webp;
        }

        if (head.StartsWith("PK\u0003\u0004"u8))
        {
            return ZipContainer;
        }

        if (head[..Math.Min(head.Length, PdfHeaderWindow)].IndexOf("%PDF-"u8) >= 0)
        {
            return Pdf;
        }

        return TextFormat(head);
    }

    /// <summary>DOCX or PPTX by the parts of the zip container (the package's content types and its main part), else null.</summary>
    private static string? OfficeFormat(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            if (archive.Entries.Count > MaxContainerEntries)
            {
                return null;
            }

            var names = archive.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            if (!names.Contains("[Content_Types].xml"))
            {
                return null;
            }

            return names.Contains("word/document.xml") ? Docx : names.Contains("ppt/presentation.xml") ? Pptx : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static string? TextFormat(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("\uFEFF"u8))
        {
            head = head[3..];
        }

        // A multi-byte character may be cut at the end of the window: drop up to three trailing bytes of it.
        var text = DecodeUtf8(head) ?? (head.Length == HeadBytes ? DecodeUtf8(head[..^1]) ?? DecodeUtf8(head[..^2]) ?? DecodeUtf8(head[..^3]) : null);
        if (string.IsNullOrWhiteSpace(text) || text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r' or '\f')))
        {
            return null;
        }

        var start = text.TrimStart();
        if (start.StartsWith('<') && HtmlDocumentTag().IsMatch(text))
        {
            return Html;
        }

        return MarkdownConstruct().IsMatch(text) ? Markdown : null;
    }

    private static string? DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HtmlDocumentTag();

    // An ATX heading, a list item, a fenced code block, a table row, a setext underline under a line of text, a link or an image.
    [GeneratedRegex(
        @"^\#{1,6}[ \t]+\S|^[ \t]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S|^[ \t]{0,3}(?:```|~~~)|^[ \t]*\|.*\|[ \t]*$|^\S.*\r?\n[ \t]{0,3}(?:=+|-{2,})[ \t]*$|!?\[[^\]\r\n]+\]\([^)\s]+\)",
        RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex MarkdownConstruct();
}
