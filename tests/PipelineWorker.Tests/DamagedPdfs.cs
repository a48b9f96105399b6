using System.Text;
using System.Text.RegularExpressions;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// Real corpus PDFs damaged in place (same length, so every byte offset in their cross-reference tables stays valid):
/// the kinds of damage found by experiment to defeat PdfPig 0.1.16 while poppler still reads the file. Each recipe
/// fails loudly when the corpus file no longer has what it changes.
/// </summary>
internal static partial class DamagedPdfs
{
    /// <summary>
    /// The newest trailer's /Root names an object that does not exist, as an interrupted incremental save leaves it.
    /// PdfPig reads only that trailer and refuses the file; poppler rebuilds the cross-reference table and finds the
    /// catalog through the older trailer (the Federal Register file has two).
    /// </summary>
    public static byte[] NewestRootMissing(string corpusFile)
    {
        var text = Latin1(corpusFile);
        var match = RootReference().Matches(text).Last();
        var number = match.Groups["n"];
        Assert.DoesNotContain($"\n{new string('9', number.Length)} 0 obj", text, StringComparison.Ordinal);
        return Bytes(text[..number.Index] + new string('9', number.Length) + text[(number.Index + number.Length)..]);
    }

    /// <summary>The page object's /Type /Page is misspelt: PdfPig finds no pages in the page tree, poppler takes the leaf as a page.</summary>
    public static byte[] PageTypeMisspelt(string corpusFile) => Replace(corpusFile, "/Type/Page/", "/Type/Pagx/");

    /// <summary>
    /// The CID fonts' /Subtype is unknown: PdfPig skips every glyph of those fonts (its missing-font tolerance) and finds
    /// no text, poppler treats them as TrueType CID fonts and reads every word.
    /// </summary>
    public static byte[] CidFontSubtypeUnknown(string corpusFile) => Replace(corpusFile, "/Subtype /CIDFontType2", "/Subtype /CIDFontType9");

    /// <summary>
    /// LibreOffice's page has a 44-byte /Group entry; it makes room for a page entry of our own (a crop box, a
    /// rotation), padded with spaces, to test coordinates on real content.
    /// </summary>
    public static byte[] WithPageEntry(string corpusFile, string entry)
    {
        const string group = "/Group<</S/Transparency/CS/DeviceRGB/I true>>";
        Assert.True(entry.Length <= group.Length, entry);
        return Replace(corpusFile, group, entry.PadRight(group.Length));
    }

    private static byte[] Replace(string corpusFile, string from, string to)
    {
        Assert.Equal(from.Length, to.Length);
        var text = Latin1(corpusFile);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Bytes(text.Replace(from, to, StringComparison.Ordinal));
    }

    // Latin-1 maps every byte to one char and back, so binary streams survive the round trip.
    private static string Latin1(string corpusFile) => Encoding.Latin1.GetString(File.ReadAllBytes(RepoPaths.CorpusFile(corpusFile)));

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    [GeneratedRegex(@"/Root\s+(?<n>\d+)\s+0\s+R")]
    private static partial Regex RootReference();
}
