using System.Globalization;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using Suite.PipelineWorker.Engines;
using Suite.PipelineWorker.Ingest;
using Suite.PipelineWorker.Jobs;
using Suite.PipelineWorker.Layout;
using Suite.PipelineWorker.Pdf;
using Suite.PipelineWorker.Readers;
using UglyToad.PdfPig.Content;

namespace Suite.PipelineWorker.Stages;

/// <summary>
/// pictures: the images embedded in each page (PdfPig), with their boxes, stored as files through IngestService.
/// The file is the image's own PNG (PdfPig decodes simple colour spaces) or JPEG bytes; other encodings (JPEG 2000,
/// JBIG2, CCITT, huge images) are cropped from the page by pdftoppm. Decoration (tiny images, stencil masks) is
/// ignored, and so is a full-page scan whose text OCR read (the page is text, not a picture).
/// Fallback: a page whose images cannot be read, or a picture that cannot be stored, is listed without a file or
/// left out, and the stage is <c>degraded</c>; switched off: no pictures (<c>skipped</c>). Transient: IngestService
/// unreachable. Permanent: none.
/// </summary>
/// <remarks>
/// An image document has no pictures of its own (each page is the image: its page image): <c>skipped</c>. A structured
/// document's pictures are the ones its file embeds (a package part, a data: URI), copied out by its reader, PNG and
/// JPEG stored as they are; an image the file only references (a URL) is listed with its reference and never fetched.
/// </remarks>
internal sealed class PicturesStage(
    PageRenderer renderer,
    DocumentReaders readers,
    ArtifactClient artifacts,
    IOptions<PicturesOptions> options,
    IOptions<WorkerOptions> worker) : IPipelineStage
{
    /// <summary>Images with more samples than this are cropped from the page instead of being decoded in memory.</summary>
    private const long MaxDecodedSamples = 25_000_000;

    public string Name => PipelineStageNames.Pictures;

    public bool IsOptional => true;

    public TimeSpan? Timeout => TimeSpan.FromSeconds(options.Value.TimeoutSeconds);

    /// <summary>Where the stage leaves picture files for describe: scratch/pictures/{id}.png|.jpg.</summary>
    public static string LocalFile(StageContext context, PictureInfo picture)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(picture);
        return Path.Combine(context.ScratchDirectory(PipelineStageNames.Pictures), picture.Id + (picture.ContentType == "image/jpeg" ? ".jpg" : ".png"));
    }

    public async Task<StageResult> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var o = options.Value;
        var pictures = new List<PictureInfo>();
        StageNote note;
        if (!o.Enabled)
        {
            note = StageNote.Skipped("switched off by configuration (Pipeline:Pictures:Enabled=false); no pictures are listed");
        }
        else if (context.Options.Images == ImageMode.None)
        {
            note = StageNote.Skipped("switched off by the request (images=none); no pictures are listed");
        }
        else
        {
            using var clock = StageClock.Start(Name, o.TimeoutSeconds, worker.Value, cancellationToken);
            note = await CollectAsync(context, o, pictures, clock);
        }

        await StageCheckpoint.WriteAsync(context, Name, new PicturesCheckpoint(StageCheckpoint.Version, note, pictures), cancellationToken);
        return note.ToResult();
    }

    public Task<bool> IsCheckpointUsableAsync(StageContext context, CancellationToken cancellationToken) =>
        StageCheckpoint.IsUsableAsync<PicturesCheckpoint>(context, Name, c => c.Pictures is null || c.Outcome is null ? -1 : c.Version, cancellationToken);

    private async Task<StageNote> CollectAsync(StageContext context, PicturesOptions o, List<PictureInfo> pictures, StageClock clock)
    {
        var token = clock.Token;
        var ocrPages = (await StageCheckpoint.ReadAsync<OcrCheckpoint>(context, PipelineStageNames.Ocr, token)).Pages
            .Where(p => p.Words.Count > 0).Select(p => p.Page).ToHashSet();
        var unreadable = new List<(int Page, string Error)>();
        var unstored = new List<(string Id, string Error)>();
        var capped = 0;
        var timedOut = false;
        var format = await ValidateStage.FormatAsync(context, token);
        if (DocumentFormats.IsImage(format))
        {
            return StageNote.Skipped($"a {format} image has no pictures of its own: each page is the image, kept as its page image");
        }

        if (format != DocumentFormats.Pdf)
        {
            return await CollectStatedAsync(context, o, readers.For(format), pictures, clock);
        }

        UglyToad.PdfPig.PdfDocument document;
        try
        {
            document = PdfOpening.Open(context.ContentPath);
        }
        catch (PipelineFailure failure)
        {
            // validate and extract read this file with poppler: its text is there, its pictures are not.
            return StageNote.Degraded($"PdfPig cannot open the document, so no pictures are listed ({failure.InnerException?.Message ?? failure.Message})");
        }

        using var opened = document;
        // Pages PdfPig does not see (a damaged page tree poppler reads) are reported as unreadable, not skipped.
        var pageCount = Math.Max(document.NumberOfPages, (await StageCheckpoint.ReadAsync<ValidateCheckpoint>(context, PipelineStageNames.Validate, token)).PageCount);
        try
        {
            // Only the pages of the request's pageRange (the others are not in the result).
            foreach (var number in Enumerable.Range(1, pageCount).Where(context.IncludesPage))
            {
                token.ThrowIfCancellationRequested();
                List<(IPdfImage Image, BoundingBox Box)> found;
                double pageWidth;
                double pageHeight;
                try
                {
                    var page = document.GetPage(number);
                    (pageWidth, pageHeight) = (page.Width, page.Height);
                    found = Candidates(page, o.MinSizePoints, ocrPages.Contains(number));
                }
                catch (Exception ex) when (PdfOpening.IsParseError(ex))
                {
                    unreadable.Add((number, PdfOpening.Describe(ex)));
                    continue;
                }

                foreach (var (image, box) in found)
                {
                    if (pictures.Count >= o.MaxPictures)
                    {
                        capped++;
                        continue;
                    }

                    var id = string.Create(CultureInfo.InvariantCulture, $"p{number}-pic{pictures.Count(p => p.Page == number) + 1}");
                    var (picture, error) = await StoreAsync(context, o, id, number, pageWidth, pageHeight, image, box, token);
                    pictures.Add(picture);
                    if (error is not null)
                    {
                        unstored.Add((id, error));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (clock.Expired)
        {
            timedOut = true;
        }

        var reasons = new List<string>();
        if (unreadable.Count > 0)
        {
            reasons.Add($"the images of pages {StageCheckpoint.Pages(unreadable.Select(u => u.Page).ToList())} could not be read: {unreadable[0].Error}");
        }

        if (unstored.Count > 0)
        {
            reasons.Add($"{unstored.Count} pictures are listed without a file ({string.Join(", ", unstored.Take(5).Select(u => u.Id))}): {unstored[0].Error}");
        }

        if (capped > 0)
        {
            reasons.Add($"only the first {o.MaxPictures} pictures are kept (Pipeline:Pictures:MaxPictures); {capped} more were left out");
        }

        if (timedOut)
        {
            reasons.Add($"stopped at the stage timeout of {clock.Describe()}; later pages were not searched for pictures");
        }

        return reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons));
    }

    /// <summary>The pictures a structured document's pages state, in their slots, with their files where the file embeds them.</summary>
    private async Task<StageNote> CollectStatedAsync(StageContext context, PicturesOptions o, IDocumentReader reader, List<PictureInfo> pictures, StageClock clock)
    {
        var token = clock.Token;
        var unstored = new List<(string Id, string Error)>();
        var capped = 0;
        try
        {
            await foreach (var page in ExtractStage.ReadPagesAsync(context.CheckpointPath(PipelineStageNames.Extract), token))
            {
                var elements = page.Elements ?? [];
                for (var i = 0; i < elements.Count; i++)
                {
                    if (elements[i].Picture is not { } stated)
                    {
                        continue;
                    }

                    if (pictures.Count >= o.MaxPictures)
                    {
                        capped++;
                        continue;
                    }

                    var id = string.Create(CultureInfo.InvariantCulture, $"p{page.Number}-pic{pictures.Count(p => p.Page == page.Number) + 1}");
                    var picture = new PictureInfo(id, page.Number, StructuredBlocks.Box(page, i), null, null, null, false)
                    {
                        AltText = stated.AltText,
                        Reference = stated.Reference,
                        Path = elements[i].Path,
                    };
                    if (stated.Part is { } part)
                    {
                        var (stored, error) = await StoreStatedAsync(context, reader, part, picture, token);
                        picture = stored;
                        if (error is not null)
                        {
                            unstored.Add((id, error));
                        }
                    }

                    pictures.Add(picture);
                }
            }
        }
        catch (OperationCanceledException) when (clock.Expired)
        {
            return StageNote.Degraded($"stopped at the stage timeout of {clock.Describe()}; later pictures are not listed");
        }

        var reasons = new List<string>();
        if (unstored.Count > 0)
        {
            reasons.Add($"{unstored.Count} pictures are listed without a file ({string.Join(", ", unstored.Take(5).Select(u => u.Id))}): {unstored[0].Error}");
        }

        if (capped > 0)
        {
            reasons.Add($"only the first {o.MaxPictures} pictures are kept (Pipeline:Pictures:MaxPictures); {capped} more were left out");
        }

        return reasons.Count == 0 ? StageNote.Completed : StageNote.Degraded(string.Join("; ", reasons));
    }

    private async Task<(PictureInfo Picture, string? Error)> StoreStatedAsync(StageContext context, IDocumentReader reader, string part, PictureInfo picture, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(context.ScratchDirectory(Name), picture.Id + ".part");
        try
        {
            var contentType = reader.CopyPicture(context.ContentPath, part, staging, cancellationToken);
            if (contentType is not ("image/png" or "image/jpeg"))
            {
                return (picture, contentType is null ? $"its part {Shorten(part)} is not in the file" : $"its file is {contentType}, not PNG or JPEG");
            }

            var typed = picture with { ContentType = contentType };
            var local = LocalFile(context, typed);
            File.Move(staging, local, overwrite: true);
            int? width = null, height = null;
            try
            {
                var info = new ImageMagick.MagickImageInfo(local);
                (width, height) = ((int)info.Width, (int)info.Height);
            }
            catch (ImageMagick.MagickException)
            {
                // The bytes are stored as the file gave them; only their size is unknown.
            }

            var stored = await artifacts.PutPictureAsync(context, picture.Id, local, contentType, cancellationToken);
            return (typed with { WidthPx = width, HeightPx = height, Stored = stored }, stored ? null : "the artifact store refused it");
        }
        finally
        {
            File.Delete(staging);
        }
    }

    private static string Shorten(string part) => part.Length > 80 ? part[..80] + "…" : part;

    /// <summary>The page's images that are pictures: boxes clipped to the page, no masks, no decoration, no OCRed scan, no duplicates.</summary>
    private static List<(IPdfImage Image, BoundingBox Box)> Candidates(Page page, double minSize, bool textFromOcr)
    {
        var result = new List<(IPdfImage, BoundingBox)>();
        var pageArea = Math.Max(1, page.Width * page.Height);
        foreach (var image in page.GetImages())
        {
            if (image.IsImageMask)
            {
                continue;
            }

            var b = image.BoundingBox;
            var box = new BoundingBox(
                Checkpoints.Round(Math.Max(0, Math.Min(b.Left, b.Right))),
                Checkpoints.Round(Math.Max(0, Math.Min(b.Bottom, b.Top))),
                Checkpoints.Round(Math.Min(page.Width, Math.Max(b.Left, b.Right))),
                Checkpoints.Round(Math.Min(page.Height, Math.Max(b.Bottom, b.Top))));
            var (w, h) = (box.Right - box.Left, box.Top - box.Bottom);
            var tiny = w < minSize || h < minSize;
            // A tiny page (an icon rendered as a whole page) still makes its image the page's content.
            var wholeTinyPage = tiny && w >= page.Width * 0.9 && h >= page.Height * 0.9;
            if ((tiny && !wholeTinyPage) || (textFromOcr && w * h >= pageArea * 0.5))
            {
                continue;
            }

            if (result.Any(r => r.Item2 == box))
            {
                continue;
            }

            result.Add((image, box));
        }

        return result;
    }

    private async Task<(PictureInfo Picture, string? Error)> StoreAsync(
        StageContext context, PicturesOptions o, string id, int pageNumber, double pageWidth, double pageHeight, IPdfImage image, BoundingBox box, CancellationToken cancellationToken)
    {
        var scratch = context.ScratchDirectory(Name);
        string? contentType = null;
        int? width = null;
        int? height = null;
        string? file = null;
        string? error = null;
        try
        {
            var samples = (long)image.WidthInSamples * image.HeightInSamples;
            var raw = image.RawMemory;
            if (raw.Length > 3 && raw.Span[0] == 0xFF && raw.Span[1] == 0xD8 && raw.Span[2] == 0xFF)
            {
                (contentType, width, height) = ("image/jpeg", image.WidthInSamples, image.HeightInSamples);
                file = Path.Combine(scratch, id + ".jpg");
                await File.WriteAllBytesAsync(file, raw, cancellationToken);
            }
            else if (samples <= MaxDecodedSamples && TryPng(image) is { } png)
            {
                (contentType, width, height) = ("image/png", image.WidthInSamples, image.HeightInSamples);
                file = Path.Combine(scratch, id + ".png");
                await File.WriteAllBytesAsync(file, png, cancellationToken);
            }
            else
            {
                var crop = await renderer.RenderAsync(
                    context.ContentPath, pageNumber, pageWidth, pageHeight, o.CropDpi, o.CropMaxPixels, Path.Combine(scratch, id),
                    TimeSpan.FromSeconds(o.CropTimeoutSeconds), cancellationToken, new PageRegion(box.Left, box.Bottom, box.Right, box.Top));
                (contentType, width, height, file) = ("image/png", crop.WidthPx, crop.HeightPx, crop.Path);
            }

            var stored = await artifacts.PutPictureAsync(context, id, file, contentType, cancellationToken);
            var dataUri = context.Options.Images == ImageMode.Embedded
                ? $"data:{contentType};base64,{Convert.ToBase64String(await File.ReadAllBytesAsync(file, cancellationToken))}"
                : null;
            return (new PictureInfo(id, pageNumber, box, contentType, width, height, stored, dataUri), null);
        }
        catch (EngineException ex)
        {
            error = ex.Message;
        }
        catch (ArtifactRejectedException ex)
        {
            error = ex.Message;
        }

        if (file is not null)
        {
            File.Delete(file);
        }

        return (new PictureInfo(id, pageNumber, box, null, width, height, false), error);
    }

    private static byte[]? TryPng(IPdfImage image)
    {
        try
        {
            return image.TryGetPng(out var png) ? png : null;
        }
        catch (Exception ex) when (PdfOpening.IsParseError(ex))
        {
            return null;
        }
    }
}
