using System.Xml;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Stages;
using Suite.Testing;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;
using Xunit.Abstractions;

namespace PipelineWorker.Tests;

/// <summary>
/// poppler's words land where PdfPig puts the same words, on real pages: plain, with a crop box offset, rotated by each
/// quarter turn, and a landscape page whose /Rotate its content makes up for. And pdftotext's and pdfinfo's output is
/// read without trusting what the PDF put into it.
/// </summary>
public sealed class PopplerWordBoxTests(ITestOutputHelper output) : IDisposable
{
    private readonly PipelineHost _host = new();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("suite-poppler-boxes-");

    public void Dispose()
    {
        _host.Dispose();
        _folder.Delete(recursive: true);
    }

    public static TheoryData<string, string, int> Pages => new()
    {
        { "sf__002-trivial-libre-office-writer.pdf", "", 1 },
        { "sf__002-trivial-libre-office-writer.pdf", "/CropBox[50 100 500 700]", 1 },
        { "sf__002-trivial-libre-office-writer.pdf", "/CropBox[50 100 500 700]/Rotate 90", 1 },
        { "sf__002-trivial-libre-office-writer.pdf", "/Rotate 180", 1 },
        { "sf__002-trivial-libre-office-writer.pdf", "/CropBox[50 100 500 700]/Rotate 270", 1 },
        { "pdfplumber__senate-expenditures.pdf", "", 1 },
        { "sf__pdflatex-4-pages.pdf", "", 2 },
        { "pdfplumber__federal-register-2020-17221.pdf", "", 1 },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task The_same_word_from_pdfpig_and_from_poppler_lands_on_the_same_box(string file, string pageEntry, int pageNumber)
    {
        var path = Path.Combine(_folder.FullName, file);
        await File.WriteAllBytesAsync(path, pageEntry.Length == 0 ? await File.ReadAllBytesAsync(RepoPaths.CorpusFile(file)) : DamagedPdfs.WithPageEntry(file, pageEntry));
        var fallback = _host.Get<TextFallback>();

        using var document = PdfOpening.Open(path);
        var page = document.GetPage(pageNumber);
        var pdfPig = page.GetWords(NearestNeighbourWordExtractor.Instance).Select(ExtractStage.ToExtracted).Where(w => !string.IsNullOrWhiteSpace(w.Text)).Select(Normalized).ToList();
        // The frame from pdfinfo (used when PdfPig has no page) is the frame PdfPig's own boxes give.
        var frame = (await fallback.FramesAsync(path, pageNumber, pageNumber, CancellationToken.None))[pageNumber];
        var pdfPigFrame = PageFrame.Of(
            new PageBox(page.MediaBox.Bounds.Left, page.MediaBox.Bounds.Bottom, page.MediaBox.Bounds.Right, page.MediaBox.Bounds.Top),
            new PageBox(page.CropBox.Bounds.Left, page.CropBox.Bounds.Bottom, page.CropBox.Bounds.Right, page.CropBox.Bounds.Top),
            page.Rotation.Value);
        Assert.Equal(pdfPigFrame.Rotation, frame.Rotation);
        Assert.All(new[] { (frame.Width, pdfPigFrame.Width), (frame.Height, pdfPigFrame.Height), (frame.OffsetX, pdfPigFrame.OffsetX), (frame.Top, pdfPigFrame.Top) }, p => Assert.Equal(p.Item2, p.Item1, 0.02));
        Assert.Equal((Math.Round(page.Width, 1), Math.Round(page.Height, 1)), (Math.Round(frame.Width, 1), Math.Round(frame.Height, 1)));

        var poppler = (await fallback.ReadPageAsync(path, pageNumber, frame, CancellationToken.None)).Select(Normalized).ToList();

        var pairs = pdfPig
            .Select(p => (PdfPig: p, Poppler: poppler.Where(q => q.Text == p.Text).MinBy(q => Distance(p, q))))
            .Where(p => p.Poppler is not null)
            .Select(p => (p.PdfPig, Poppler: p.Poppler!))
            .ToList();
        Assert.True(pairs.Count >= 0.8 * pdfPig.Count, $"{pairs.Count} of {pdfPig.Count} PdfPig words found in poppler's");
        var edges = new[]
        {
            ("left", pairs.Select(p => p.Poppler.Left - p.PdfPig.Left).ToList()),
            ("bottom", pairs.Select(p => p.Poppler.Bottom - p.PdfPig.Bottom).ToList()),
            ("right", pairs.Select(p => p.Poppler.Right - p.PdfPig.Right).ToList()),
            ("top", pairs.Select(p => p.Poppler.Top - p.PdfPig.Top).ToList()),
        };
        foreach (var (edge, deltas) in edges)
        {
            var sorted = deltas.Select(Math.Abs).Order().ToList();
            output.WriteLine($"{edge}: median |d| {sorted[sorted.Count / 2]:0.00} pt, 90th {sorted[sorted.Count * 9 / 10]:0.00}, max {sorted[^1]:0.00} ({sorted.Count} words)");
            // Every edge of the median word within 1 pt; nine words in ten within 1 pt on three edges and within 3 pt on
            // all four (the glyph top depends on the word's letters, which poppler's box does not show).
            Assert.True(sorted[sorted.Count / 2] <= 1, $"{edge}: median {sorted[sorted.Count / 2]:0.00} pt");
            Assert.True(sorted[sorted.Count * 9 / 10] <= 3, $"{edge}: 90th percentile {sorted[sorted.Count * 9 / 10]:0.00} pt");
        }

        Assert.True(edges.Count(e => e.Item2.Select(Math.Abs).Order().ElementAt(e.Item2.Count * 9 / 10) <= 1) >= 3, "three edges within 1 pt for nine words in ten");
    }

    [Fact]
    public void Pdftotext_output_is_parsed_without_resolving_entities_and_without_failing_on_control_characters()
    {
        const string page = """
            <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml">
            <head><title></title><meta name="Title" content="a &lt;b&gt; &amp; c"/></head>
            <body><doc><page width="612" height="792"><flow><block xMin="1" yMin="2" xMax="30" yMax="14">
            <line xMin="1" yMin="2" xMax="30" yMax="14"><word xMin="1" yMin="2" xMax="10" yMax="14">Caf&#233;&amp;</word><word xMin="12" yMin="2" xMax="30" yMax="14">aCTRLb</word></line>
            </block></flow></page></doc></body></html>
            """;

        // pdftotext passes unmapped glyphs through as control characters, which XML 1.0 does not allow: they are dropped.
        var line = Assert.Single(BboxLayoutReader.Parse(page.Replace("CTRL", "\u0001", StringComparison.Ordinal), 1 << 20));

        Assert.Equal(["Café&", "ab"], line.Words.Select(w => w.Text));
        Assert.Equal((12.0, 2.0, 30.0, 14.0), (line.Words[1].XMin, line.Words[1].YMin, line.Words[1].XMax, line.Words[1].YMax));

        // An entity from an internal subset (never in pdftotext's output) is not expanded, let alone fetched.
        const string hostile = """
            <?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <html><body><doc><page width="1" height="1"><line xMin="0" yMin="0" xMax="1" yMax="1"><word xMin="0" yMin="0" xMax="1" yMax="1">&x;</word></line></page></doc></body></html>
            """;
        Assert.Throws<XmlException>(() => BboxLayoutReader.Parse(hostile, 1 << 20));
        Assert.Throws<XmlException>(() => BboxLayoutReader.Parse(page, 100));
    }

    [Fact]
    public void Pdfinfo_output_is_read_from_its_own_lines_only_not_from_metadata_that_imitates_them()
    {
        const string output = """
            Title:           Pages:          9999
            Page    1 MediaBox:      0.00     0.00   10.00   10.00
            Author:          x
            Pages:           2
            Encrypted:       no
            Page    1 size:  595.276 x 841.89 pts (A4)
            Page    1 rot:   90
            Page    2 rot:   -90
            Page    1 MediaBox:      0.00     0.00   595.28   841.89
            Page    1 CropBox:      50.00   100.00   500.00   700.00
            Page    2 MediaBox:      0.00     0.00   612.00   792.00
            PDF version:     1.7
            """;

        var report = PdfinfoReport.Parse(output.ReplaceLineEndings("\n"));

        Assert.Equal(2, report.PageCount);
        Assert.Equal("1.7", report.PdfVersion);
        Assert.False(report.Encrypted);
        Assert.Equal(new PdfinfoPage(1, new PageBox(0, 0, 595.28, 841.89), new PageBox(50, 100, 500, 700), 90), report.Pages[1]);
        Assert.Equal(new PdfinfoPage(2, new PageBox(0, 0, 612, 792), new PageBox(0, 0, 612, 792), -90), report.Pages[2]);
        Assert.Equal(270, PageFrame.Of(report.Pages[2].MediaBox, report.Pages[2].CropBox, report.Pages[2].Rotation).Rotation);
    }

    private static ExtractedWord Normalized(ExtractedWord w) =>
        w with { Left = Math.Min(w.Left, w.Right), Right = Math.Max(w.Left, w.Right), Bottom = Math.Min(w.Bottom, w.Top), Top = Math.Max(w.Bottom, w.Top) };

    private static double Distance(ExtractedWord a, ExtractedWord b) =>
        Math.Abs((a.Left + a.Right - b.Left - b.Right) / 2) + Math.Abs((a.Bottom + a.Top - b.Bottom - b.Top) / 2);
}
