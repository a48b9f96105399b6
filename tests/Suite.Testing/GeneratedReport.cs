using System.Globalization;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Suite.Testing;

/// <summary>
/// A generated N-page A4 report for size tests and benchmarks: per page a bold heading, 35 lines of Helvetica text
/// (the same words in a fixed pseudo-random order for every run) and a page number.
/// </summary>
public static class GeneratedReport
{
    private static readonly string[] Words =
    [
        "pipeline", "document", "resilience", "stage", "checkpoint", "worker", "layout", "table", "picture", "reading",
        "order", "queue", "lease", "timeout", "breaker", "retry", "result", "schema", "render", "engine",
    ];

    public static byte[] Build(int pages)
    {
        var builder = new PdfDocumentBuilder();
        var regular = builder.AddStandard14Font(Standard14Font.Helvetica);
        var bold = builder.AddStandard14Font(Standard14Font.HelveticaBold);
        var random = new Random(42);
        for (var n = 1; n <= pages; n++)
        {
            var page = builder.AddPage(PageSize.A4);
            page.AddText($"Section {n}: Benchmark page", 16, new PdfPoint(72, 770), bold);
            var y = 740.0;
            for (var line = 0; line < 40; line++, y -= 15)
            {
                if (line % 8 == 7)
                {
                    continue;
                }

                var text = string.Join(' ', Enumerable.Range(0, 11).Select(_ => Words[random.Next(Words.Length)]));
                page.AddText(text, 10, new PdfPoint(72, y), regular);
            }

            page.AddText(n.ToString(CultureInfo.InvariantCulture), 10, new PdfPoint(295, 40), regular);
        }

        return builder.Build();
    }
}
