using System.Buffers.Binary;
using System.Globalization;

namespace Suite.PipelineWorker.Engines;

/// <summary>A PNG written by the renderer, with its pixel size and the resolution it was rendered at.</summary>
internal sealed record RenderedImage(string Path, int WidthPx, int HeightPx, double Dpi);

/// <summary>A region of a page in PDF points (origin bottom-left), to render only that part.</summary>
internal sealed record PageRegion(double Left, double Bottom, double Right, double Top);

/// <summary>
/// Renders one page (or a region of it) to PNG with poppler's <c>pdftoppm</c>, one process per page so memory is
/// bounded by a page, never by the document. The resolution is capped by pixels, not only by DPI: a page with a
/// huge media box (or an embedded image that makes it so) is rendered at a lower DPI so width × height stays within
/// <c>maxPixels</c>.
/// </summary>
internal sealed class PageRenderer(ProcessRunner runner, EngineRegistry engines, EngineBreakers breakers)
{
    /// <summary>The DPI to render a page of <paramref name="widthPt"/> × <paramref name="heightPt"/> at, so that it has at most <paramref name="maxPixels"/>.</summary>
    public static double EffectiveDpi(double widthPt, double heightPt, double dpi, long maxPixels)
    {
        if (widthPt <= 0 || heightPt <= 0)
        {
            return dpi;
        }

        var pixels = widthPt / 72 * dpi * (heightPt / 72 * dpi);
        if (pixels <= maxPixels)
        {
            return dpi;
        }

        return Math.Max(1, Math.Floor(72 * Math.Sqrt(maxPixels / (widthPt * heightPt)) * 100) / 100);
    }

    /// <summary>
    /// Renders page <paramref name="pageNumber"/> to <c>{outputBase}.png</c> (colour, for people) or, with
    /// <paramref name="grayForOcr"/>, to <c>{outputBase}.pgm</c> (grey, what tesseract reads best and fastest).
    /// pdftoppm writes raw PNM, which <see cref="PngEncoder"/> turns into PNG with fast compression.
    /// Throws <see cref="EngineException"/> (not found, timeout with the process group killed, failure with stderr,
    /// or an open breaker).
    /// </summary>
    public async Task<RenderedImage> RenderAsync(
        string pdfPath,
        int pageNumber,
        double widthPt,
        double heightPt,
        double dpi,
        long maxPixels,
        string outputBase,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        PageRegion? region = null,
        bool grayForOcr = false)
    {
        var engine = await engines.RendererAsync();
        if (!engine.Available)
        {
            throw new EngineException(EngineFailureKind.NotFound, engine.Unavailable);
        }

        var regionWidth = region is null ? widthPt : region.Right - region.Left;
        var regionHeight = region is null ? heightPt : region.Top - region.Bottom;
        var effective = EffectiveDpi(regionWidth, regionHeight, dpi, maxPixels);
        var args = new List<string> { "-f", Text(pageNumber), "-l", Text(pageNumber), "-singlefile" };
        if (grayForOcr)
        {
            args.Add("-gray");
        }

        if (widthPt > 0 && heightPt > 0)
        {
            args.AddRange(["-r", Text(effective)]);
        }
        else
        {
            // Unknown page size (a damaged page): bound the long side instead, which bounds the area.
            args.AddRange(["-scale-to", Text((int)Math.Sqrt(maxPixels))]);
        }

        if (region is not null)
        {
            var scale = effective / 72;
            args.AddRange([
                "-x", Text((int)Math.Floor(region.Left * scale)),
                "-y", Text((int)Math.Floor((heightPt - region.Top) * scale)),
                "-W", Text(Math.Max(1, (int)Math.Ceiling(regionWidth * scale))),
                "-H", Text(Math.Max(1, (int)Math.Ceiling(regionHeight * scale))),
            ]);
        }

        args.AddRange([pdfPath, outputBase]);
        var raw = outputBase + (grayForOcr ? ".pgm" : ".ppm");
        await breakers.ExecuteAsync(EngineBreakers.Renderer, async ct =>
        {
            var run = await runner.RunAsync(new ProcessSpec(engine.Path!, args), timeout, ct);
            if (run.ExitCode != 0 || !File.Exists(raw))
            {
                File.Delete(raw);
                throw new EngineException(EngineFailureKind.Failed, $"pdftoppm failed on page {pageNumber} (exit code {run.ExitCode}){ProcessRunner.Suffix(run.StandardError)}");
            }

            return run;
        }, cancellationToken);

        if (grayForOcr)
        {
            var (w, h) = PnmSize(raw);
            return new RenderedImage(raw, w, h, effective);
        }

        try
        {
            var png = outputBase + ".png";
            var (width, height) = PngEncoder.FromPnm(raw, png);
            return new RenderedImage(png, width, height, effective);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>Width and height from a binary PNM header (P5/P6).</summary>
    private static (int Width, int Height) PnmSize(string path)
    {
        using var file = File.OpenRead(path);
        var header = new byte[64];
        var read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        var fields = System.Text.Encoding.ASCII.GetString(header, 0, read).Split((char[])[' ', '\n', '\r', '\t'], 4, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 3 && int.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out var w) && int.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var h)
            ? (w, h)
            : throw new EngineException(EngineFailureKind.Failed, $"{Path.GetFileName(path)} is not a PNM image.");
    }

    /// <summary>Width and height from a PNG's IHDR chunk.</summary>
    public static (int Width, int Height) PngSize(string path)
    {
        Span<byte> header = stackalloc byte[24];
        using var file = File.OpenRead(path);
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || header[1] != (byte)'P' || header[2] != (byte)'N' || header[3] != (byte)'G')
        {
            throw new EngineException(EngineFailureKind.Failed, $"{Path.GetFileName(path)} is not a PNG file.");
        }

        return (BinaryPrimitives.ReadInt32BigEndian(header[16..20]), BinaryPrimitives.ReadInt32BigEndian(header[20..24]));
    }

    private static string Text(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
