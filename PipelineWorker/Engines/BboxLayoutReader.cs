using System.Globalization;
using System.Xml;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// A word as <c>pdftotext -bbox-layout</c> reports it: points measured from the top-left corner of the displayed
/// (rotated) media box, the box spanning the font's ascent to its descent.
/// </summary>
internal sealed record PopplerWord(string Text, double XMin, double YMin, double XMax, double YMax);

/// <summary>A line of words in reading order, with its box (same measure as the words).</summary>
internal sealed record PopplerLine(double XMin, double YMin, double XMax, double YMax, IReadOnlyList<PopplerWord> Words);

/// <summary>
/// Reads the lines and words out of <c>pdftotext -bbox-layout</c>'s XHTML. The text comes from an untrusted PDF, so
/// the reader resolves nothing: the DOCTYPE (which names an external DTD) is ignored, no entity is expanded from
/// anywhere, and the document size is capped. Characters XML forbids (control codes pdftotext passes through for
/// unmapped glyphs) are dropped first, as extract drops them from PdfPig's words, so one odd glyph does not cost the page.
/// </summary>
internal static class BboxLayoutReader
{
    public static IReadOnlyList<PopplerLine> Parse(string xhtml, long maxCharacters)
    {
        ArgumentNullException.ThrowIfNull(xhtml);
        if (xhtml.Any(IsForbidden))
        {
            xhtml = string.Concat(xhtml.Where(c => !IsForbidden(c)));
        }

        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersInDocument = maxCharacters,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        var lines = new List<PopplerLine>();
        List<PopplerWord>? words = null;
        using var text = new StringReader(xhtml);
        using var reader = XmlReader.Create(text, settings);
        reader.Read();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "line" && Box(reader) is { } line)
            {
                words = [];
                lines.Add(new PopplerLine(line.XMin, line.YMin, line.XMax, line.YMax, words));
            }
            else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "line")
            {
                words = null;
            }
            else if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "word")
            {
                var box = Box(reader);
                // Reading the content moves past the word's end tag, onto the next node (maybe the next word).
                var content = reader.ReadElementContentAsString().Trim();
                if (content.Length > 0 && box is { } b)
                {
                    var word = new PopplerWord(content, b.XMin, b.YMin, b.XMax, b.YMax);
                    if (words is null)
                    {
                        // A word outside any line (not what -bbox-layout writes): a line of its own.
                        lines.Add(new PopplerLine(b.XMin, b.YMin, b.XMax, b.YMax, [word]));
                    }
                    else
                    {
                        words.Add(word);
                    }
                }

                continue;
            }

            reader.Read();
        }

        lines.RemoveAll(l => l.Words.Count == 0);
        return lines;
    }

    /// <summary>Not allowed in XML 1.0 documents: controls other than tab and line ends, and the two non-characters.</summary>
    private static bool IsForbidden(char c) => (c < ' ' && c is not ('\t' or '\n' or '\r')) || c is '\uFFFE' or '\uFFFF';

    private static (double XMin, double YMin, double XMax, double YMax)? Box(XmlReader reader) =>
        Number(reader, "xMin") is { } l && Number(reader, "yMin") is { } t && Number(reader, "xMax") is { } r && Number(reader, "yMax") is { } b
            ? (Math.Min(l, r), Math.Min(t, b), Math.Max(l, r), Math.Max(t, b))
            : null;

    private static double? Number(XmlReader reader, string attribute) =>
        double.TryParse(reader.GetAttribute(attribute), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : null;
}
