using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Writer;

namespace Suite.Testing;

/// <summary>
/// PDFs for the per-request option tests, made at test time: text set in Liberation Sans (fonts-liberation, installed
/// by .ci/prereqs with chromium), rasterized by the real pdftoppm, and wrapped again as image-only pages, either plain
/// (a scan) or over a text layer of other words hidden under the image (a scan with a garbage OCR layer).
/// </summary>
public static class ScannedPdfs
{
    private const string FontPath = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

    /// <summary>One A4 page per entry, its lines at 20 pt from the top.</summary>
    public static byte[] Text(params string[][] pages)
    {
        ArgumentNullException.ThrowIfNull(pages);
        var builder = new PdfDocumentBuilder();
        var font = builder.AddTrueTypeFont(File.ReadAllBytes(FontPath));
        foreach (var lines in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            var y = 760.0;
            foreach (var line in lines)
            {
                page.AddText(line, 20, new PdfPoint(72, y), font);
                y -= 34;
            }
        }

        return builder.Build();
    }

    /// <summary>
    /// <paramref name="visible"/> set as text, rasterized at <paramref name="dpi"/> and placed as one image over the whole
    /// page; with <paramref name="hidden"/> those lines are a text layer drawn first, so the image covers them: PdfPig reads
    /// them, a rendering (and so OCR) shows only the image.
    /// </summary>
    public static Task<byte[]> ScanAsync(string[] visible, string[]? hidden = null, int dpi = 200) => ScanPagesAsync([visible], hidden, dpi);

    /// <summary>A scan of several pages, one per entry of <paramref name="pages"/> (<paramref name="hidden"/> under each).</summary>
    public static async Task<byte[]> ScanPagesAsync(IReadOnlyList<string[]> pages, string[]? hidden = null, int dpi = 200)
    {
        ArgumentNullException.ThrowIfNull(pages);
        var builder = new PdfDocumentBuilder();
        var font = builder.AddTrueTypeFont(File.ReadAllBytes(FontPath));
        foreach (var visible in pages)
        {
            var png = await RasterizeAsync(Text(visible), dpi);
            var page = builder.AddPage(PageSize.A4);
            var y = 760.0;
            foreach (var line in hidden ?? [])
            {
                page.AddText(line, 20, new PdfPoint(72, y), font);
                y -= 34;
            }

            page.AddPng(png, new PdfRectangle(0, 0, page.PageSize.Width, page.PageSize.Height));
        }

        return builder.Build();
    }

    private static async Task<byte[]> RasterizeAsync(byte[] pdf, int dpi)
    {
        var folder = Directory.CreateTempSubdirectory("suite-option-pdf-");
        try
        {
            var input = Path.Combine(folder.FullName, "in.pdf");
            await File.WriteAllBytesAsync(input, pdf);
            var run = await ProcessRun.RunAsync("pdftoppm", ["-r", dpi.ToString(System.Globalization.CultureInfo.InvariantCulture), "-png", "-singlefile", input, Path.Combine(folder.FullName, "page")], TimeSpan.FromSeconds(60));
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException("pdftoppm failed: " + run.Error);
            }

            return await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "page.png"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
