using ImageMagick;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// PNG, JPEG, TIFF (every frame) and WebP with Magick.NET: one page per frame, without a text layer (OCR reads it).
/// Dimensions and frames come from a ping (<see cref="MagickImageInfo"/>, no pixels decoded) and are checked against
/// the limits before anything is decoded; ImageMagick's own resource limits (width, height, area, memory, disk, list
/// length) stand behind that check. The format detected from the magic bytes is given to ImageMagick explicitly, so it
/// never picks a coder from the content itself. A page is pixels × 72 / dpi points, with the image's stated resolution
/// when plausible, else <see cref="ReaderOptions.DefaultImageDpi"/>.
/// </summary>
internal sealed class ImageReader : PagedDocumentReader
{
    private static readonly Lock LimitsLock = new();
    private readonly ReaderOptions _limits;
    private readonly ValidateStageOptions _validate;

    public ImageReader(IOptions<ReaderOptions> limits, IOptions<ValidateStageOptions> validate)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(validate);
        _limits = limits.Value;
        _validate = validate.Value;
        ApplyResourceLimits(_limits);
    }

    public override IReadOnlyList<string> Formats { get; } = [DocumentFormats.Png, DocumentFormats.Jpeg, DocumentFormats.Tiff, DocumentFormats.Webp];

    public override string Extractor => PageExtractors.Magick;

    /// <summary>One frame as ping saw it: pixels and resolution.</summary>
    internal sealed record Frame(int WidthPx, int HeightPx, double Dpi)
    {
        public double WidthPt => WidthPx * 72 / Dpi;

        public double HeightPt => HeightPx * 72 / Dpi;
    }

    public override int Probe(string path, CancellationToken cancellationToken) => Frames(path).Count;

    public override IEnumerable<ExtractedPage> ReadPages(string path, CancellationToken cancellationToken)
    {
        var number = 0;
        foreach (var frame in Frames(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            number++;
            yield return new ExtractedPage(number, Checkpoints.Round(frame.WidthPt), Checkpoints.Round(frame.HeightPt), [], Extractor: Extractor);
        }
    }

    /// <summary>The frames, checked against the page and pixel limits; throws the failure the first one breaks.</summary>
    internal List<Frame> Frames(string path)
    {
        var format = DocumentFormats.Detect(path);
        var infos = new List<Frame>();
        if (format == DocumentFormats.Png && PngSize(path) is { } declared)
        {
            // libpng refuses dimensions beyond ImageMagick's limits as a "corrupt" image: ask the header first.
            CheckSize(declared.Width, declared.Height, 1);
        }

        try
        {
            foreach (var info in MagickImageInfo.ReadCollection(path, Settings(format)))
            {
                if (infos.Count >= _validate.MaxPages)
                {
                    throw new PipelineFailure(FailureCodes.TooManyPages, $"The image has more than {_validate.MaxPages} frames (Worker:Validate:MaxPages). Split it into smaller files.");
                }

                CheckSize(info.Width, info.Height, infos.Count + 1);
                infos.Add(new Frame((int)info.Width, (int)info.Height, Dpi(info.Density)));
            }
        }
        catch (MagickException ex) when (ex is MagickResourceLimitErrorException || ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge($"ImageMagick refused it at its resource limits ({ex.Message})", ex);
        }
        catch (MagickException ex) when (ex is MagickErrorException or MagickCorruptImageErrorException or MagickMissingDelegateErrorException)
        {
            throw new PipelineFailure(FailureCodes.CorruptStructure, $"The image cannot be read ({ex.Message}). Save it again and upload it again.", ex);
        }

        if (infos.Count == 0)
        {
            throw new PipelineFailure(FailureCodes.NoPages, "The image has no frame. Save it again and upload it again.");
        }

        return infos;
    }

    /// <summary>
    /// Writes frame <paramref name="page"/> (from 1) as a PNG, scaled down to at most <paramref name="maxPixels"/>
    /// (its resolution scaled with it), in grey for OCR when asked: the page image of render and the input of OCR.
    /// </summary>
    internal RenderedImage WriteFrame(string path, int page, string output, long maxPixels, bool gray)
    {
        var frames = Frames(path);
        var frame = frames[page - 1];
        var settings = Settings(DocumentFormats.Detect(path));
        settings.FrameIndex = (uint)(page - 1);
        settings.FrameCount = 1;
        try
        {
            using var image = new MagickImage(path, settings);
            image.AutoOrient();
            var dpi = frame.Dpi;
            var pixels = (double)image.Width * image.Height;
            if (pixels > maxPixels)
            {
                var scale = Math.Sqrt(maxPixels / pixels);
                image.Resize((uint)Math.Max(1, image.Width * scale), (uint)Math.Max(1, image.Height * scale));
                dpi *= scale;
            }

            if (gray)
            {
                image.Grayscale();
            }

            image.Strip();
            image.Format = MagickFormat.Png;
            image.Write(output);
            return new RenderedImage(output, (int)image.Width, (int)image.Height, dpi);
        }
        catch (MagickException ex)
        {
            throw new EngineException(EngineFailureKind.Failed, $"frame {page} cannot be decoded: {ex.Message}");
        }
    }

    /// <summary>The width and height a PNG's IHDR chunk declares (bytes 16–23), or null when it has none.</summary>
    private static (uint Width, uint Height)? PngSize(string path)
    {
        Span<byte> head = stackalloc byte[24];
        using var file = File.OpenRead(path);
        if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length || !head[12..16].SequenceEqual("IHDR"u8))
        {
            return null;
        }

        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head[16..]), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head[20..]));
    }

    private void CheckSize(uint width, uint height, int frame)
    {
        if (width == 0 || height == 0)
        {
            throw new PipelineFailure(FailureCodes.CorruptStructure, $"Frame {frame} of the image has no pixels ({width}×{height}). Save it again and upload it again.");
        }

        if (width > _limits.MaxImageSide || height > _limits.MaxImageSide || (long)width * height > _limits.MaxImagePixels)
        {
            throw TooLarge($"frame {frame} is {width}×{height} pixels; at most {_limits.MaxImageSide} on a side and {_limits.MaxImagePixels} pixels are read (Worker:Readers:MaxImageSide, MaxImagePixels)", null);
        }
    }

    private static PipelineFailure TooLarge(string why, Exception? inner) => new(
        FailureCodes.ImageTooLarge,
        $"The image is too large to read: {why}. Scale it down (300 dpi is enough for text) and upload it again.",
        inner);

    private double Dpi(Density? density)
    {
        if (density is null || density.X <= 0)
        {
            return _limits.DefaultImageDpi;
        }

        var perInch = density.Units == DensityUnit.PixelsPerCentimeter ? density.X * 2.54 : density.X;
        // Undefined units, or 72 dpi (a writer's placeholder more often than a real scan), do not describe paper.
        return density.Units == DensityUnit.Undefined || perInch is < 36 or > 2400 || Math.Abs(perInch - 72) < 0.5 ? _limits.DefaultImageDpi : perInch;
    }

    private static MagickReadSettings Settings(string? format) => new()
    {
        Format = format switch
        {
            DocumentFormats.Png => MagickFormat.Png,
            DocumentFormats.Jpeg => MagickFormat.Jpeg,
            DocumentFormats.Tiff => MagickFormat.Tiff,
            DocumentFormats.Webp => MagickFormat.WebP,
            _ => throw new PipelineFailure(FailureCodes.NotPdf, "The file is not an image of a supported format (PNG, JPEG, TIFF, WebP)."),
        },
    };

    /// <summary>ImageMagick's limits are process-wide; every reader instance sets the same ones.</summary>
    private static void ApplyResourceLimits(ReaderOptions limits)
    {
        lock (LimitsLock)
        {
            ResourceLimits.Width = (ulong)limits.MaxImageSide;
            ResourceLimits.Height = (ulong)limits.MaxImageSide;
            ResourceLimits.Area = (ulong)limits.MaxImagePixels;
            ResourceLimits.Memory = (ulong)limits.MaxImageMemoryBytes;
            ResourceLimits.Disk = (ulong)limits.MaxImageMemoryBytes * 4;
            ResourceLimits.ListLength = 100_000;
        }
    }
}
