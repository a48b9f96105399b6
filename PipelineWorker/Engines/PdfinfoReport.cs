using System.Globalization;
using System.Text.RegularExpressions;

namespace Suite.PipelineWorker.Engines;

/// <summary>A page box in PDF user space (points): the corners as the PDF states them.</summary>
internal sealed record PageBox(double Left, double Bottom, double Right, double Top)
{
    public double Width => Right - Left;

    public double Height => Top - Bottom;
}

/// <summary>One page as <c>pdfinfo -box</c> describes it: its media and crop boxes and its rotation (degrees).</summary>
internal sealed record PdfinfoPage(int Number, PageBox MediaBox, PageBox CropBox, int Rotation);

/// <summary>
/// What poppler's <c>pdfinfo</c> says about a document: page count, PDF version, encryption and, when asked with
/// <c>-box -f -l</c>, each page's boxes and rotation.
/// </summary>
internal sealed partial record PdfinfoReport(int PageCount, string? PdfVersion, bool Encrypted, IReadOnlyDictionary<int, PdfinfoPage> Pages)
{
    /// <summary>
    /// Parses pdfinfo's output. The document's own metadata (title, author...) is printed before the "Pages:" line
    /// and can hold any text, including lines that look like ours; only what follows the last "Pages:" line is
    /// poppler's own, so parsing starts there.
    /// </summary>
    public static PdfinfoReport Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var lines = output.Split('\n');
        var start = Array.FindLastIndex(lines, l => l.StartsWith("Pages:", StringComparison.Ordinal));
        if (start < 0)
        {
            return new PdfinfoReport(0, null, false, new Dictionary<int, PdfinfoPage>());
        }

        var pageCount = int.TryParse(Value(lines[start]), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 0;
        string? version = null;
        var encrypted = false;
        var media = new Dictionary<int, PageBox>();
        var crop = new Dictionary<int, PageBox>();
        var rotation = new Dictionary<int, int>();
        foreach (var raw in lines.Skip(start + 1))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("PDF version:", StringComparison.Ordinal))
            {
                version = Value(line);
            }
            else if (line.StartsWith("Encrypted:", StringComparison.Ordinal))
            {
                encrypted = Value(line).StartsWith("yes", StringComparison.Ordinal);
            }
            else if (PageLine().Match(line) is { Success: true } match
                && int.TryParse(match.Groups["page"].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var page))
            {
                var value = match.Groups["value"].Value;
                switch (match.Groups["key"].Value)
                {
                    case "rot" when int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var degrees):
                        rotation[page] = degrees;
                        break;
                    case "MediaBox" when Box(value) is { } box:
                        media[page] = box;
                        break;
                    case "CropBox" when Box(value) is { } box:
                        crop[page] = box;
                        break;
                }
            }
        }

        var pages = media.ToDictionary(
            m => m.Key,
            m => new PdfinfoPage(m.Key, m.Value, crop.GetValueOrDefault(m.Key) ?? m.Value, rotation.GetValueOrDefault(m.Key)));
        return new PdfinfoReport(pageCount, version, encrypted, pages);
    }

    private static string Value(string line) => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();

    private static PageBox? Box(string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var numbers = new double[4];
        if (parts.Length != 4)
        {
            return null;
        }

        for (var i = 0; i < 4; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
            {
                return null;
            }
        }

        return new PageBox(Math.Min(numbers[0], numbers[2]), Math.Min(numbers[1], numbers[3]), Math.Max(numbers[0], numbers[2]), Math.Max(numbers[1], numbers[3]));
    }

    [GeneratedRegex(@"^Page\s+(?<page>\d{1,9})\s+(?<key>rot|MediaBox|CropBox):(?<value>.*)$")]
    private static partial Regex PageLine();
}
