using IngestService.Api;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace IngestService.Documents;

/// <summary>
/// The multipart way of an upload: the part "file" of a multipart/form-data body, streamed to the upload's temp file
/// (size limit enforced while streaming, magic bytes checked, SHA-256 computed). The body is read with MultipartReader,
/// never buffered whole and never bound to IFormFile.
/// </summary>
internal static class MultipartUpload
{
    /// <summary>Room for the multipart framing and small extra fields on top of the file's own limit.</summary>
    private const long MultipartOverheadBytes = 1024 * 1024;

    /// <summary>Whether the request is multipart/form-data with a usable boundary.</summary>
    public static bool TryGetBoundary(HttpRequest request, out string boundary)
    {
        ArgumentNullException.ThrowIfNull(request);
        boundary = "";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = HeaderUtilities.RemoveQuotes(mediaType.Boundary);
        if (value.Length is 0 or > 200)
        {
            return false;
        }

        boundary = value.Value!;
        return true;
    }

    public static async Task<ReceivedUpload> ReceiveAsync(HttpContext http, string boundary, string tempPath, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        // The size check that matters is ours, on the file part while it streams (413 file_too_large); Kestrel's own
        // body limit (30 MB by default) is raised so that it does not cut in first.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = maxBytes + MultipartOverheadBytes;
        }

        var reader = new MultipartReader(boundary, http.Request.Body);
        MultipartSection? section;
        ContentDispositionHeaderValue? disposition;
        try
        {
            (section, disposition) = await FindFilePartAsync(reader, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ReceivedUpload.Refused(IngestProblems.FileTooLarge(maxBytes));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            return ReceivedUpload.Refused(IngestProblems.MalformedUpload(ex.Message));
        }

        if (section is null || disposition is null)
        {
            return ReceivedUpload.Refused(IngestProblems.MissingFile($"The multipart body has no part named '{IngestProblems.FilePart}'."));
        }

        var fileName = FileNames.ForDisplay(disposition.FileNameStar.HasValue
            ? disposition.FileNameStar.Value
            : HeaderUtilities.RemoveQuotes(disposition.FileName).Value);

        var sniffer = new FormatSniffer();
        var written = await BlobStore.WriteTempAsync(section.Body, tempPath, maxBytes, chunk => sniffer.Observe(chunk.Span), cancellationToken);
        return ReceivedUpload.Check(written, sniffer, tempPath, maxBytes, fileName, sourceUrl: null, IngestProblems.EmptyFile);
    }

    private static async Task<(MultipartSection?, ContentDispositionHeaderValue?)> FindFilePartAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                && HeaderUtilities.RemoveQuotes(disposition.Name).Equals(IngestProblems.FilePart, StringComparison.Ordinal))
            {
                return (section, disposition);
            }

            // Another field: skip it without keeping it.
            await section.Body.CopyToAsync(Stream.Null, cancellationToken);
        }

        return (null, null);
    }
}
