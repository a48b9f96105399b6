using IngestService.Api;
using IngestService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace IngestService.Documents;

/// <summary>
/// The multipart way of an upload: the part "file" of a multipart/form-data body, streamed to the upload's temp file
/// (size limit enforced while streaming, magic bytes checked, SHA-256 computed), and the pipeline options as text fields
/// beside it (<see cref="UploadOptions"/>). Fields before the file are checked before the file is streamed; those after
/// it once it is in its temp file, still before anything is stored. The body is read with MultipartReader, never
/// buffered whole and never bound to IFormFile.
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

    public static async Task<ReceivedUpload> ReceiveAsync(
        HttpContext http, string boundary, string tempPath, long maxBytes, UploadOptions uploadOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploadOptions);
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
        var fields = new List<KeyValuePair<string, string>>();
        try
        {
            (section, disposition) = await FindFilePartAsync(reader, fields, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ReceivedUpload.Refused(IngestProblems.FileTooLarge(maxBytes));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            return ReceivedUpload.Refused(IngestProblems.MalformedUpload(ex.Message));
        }

        // No file at all is the first thing to say (a file sent under another name is not an option).
        if (section is null || disposition is null)
        {
            return ReceivedUpload.Refused(IngestProblems.MissingFile($"The multipart body has no part named '{IngestProblems.FilePart}'."));
        }

        // An unknown or bad option before the file: refused before the file is streamed.
        if ((await uploadOptions.ReadAsync(fields, cancellationToken)).Problem is { } before)
        {
            return ReceivedUpload.Refused(before);
        }

        var fileName = FileNames.ForDisplay(disposition.FileNameStar.HasValue
            ? disposition.FileNameStar.Value
            : HeaderUtilities.RemoveQuotes(disposition.FileName).Value);

        var sniffer = new FormatSniffer();
        var written = await BlobStore.WriteTempAsync(section.Body, tempPath, maxBytes, chunk => sniffer.Observe(chunk.Span), cancellationToken);
        if (written.Status != BlobWriteStatus.Written)
        {
            return ReceivedUpload.Check(written, sniffer, tempPath, maxBytes, fileName, sourceUrl: null, IngestProblems.EmptyFile, options: null);
        }

        // The fields after the file: its part is read to its end, so the reader stands at the next one.
        try
        {
            await ReadFieldsAsync(reader, fields, stopAtFile: false, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            return ReceivedUpload.Refused(IngestProblems.MalformedUpload(ex.Message));
        }

        var (options, problem) = await uploadOptions.ReadAsync(fields, cancellationToken);
        return problem is not null
            ? ReceivedUpload.Refused(problem)
            : ReceivedUpload.Check(written, sniffer, tempPath, maxBytes, fileName, sourceUrl: null, IngestProblems.EmptyFile, options, UploadOptions.RetainFor(fields))
                .WithCallback(UploadOptions.CallbackUrlOf(fields));
    }

    private static Task<(MultipartSection?, ContentDispositionHeaderValue?)> FindFilePartAsync(
        MultipartReader reader, List<KeyValuePair<string, string>> fields, CancellationToken cancellationToken) =>
        ReadFieldsAsync(reader, fields, stopAtFile: true, cancellationToken);

    /// <summary>
    /// Reads parts into <paramref name="fields"/> (name and text, each cut after <see cref="UploadOptions.MaxValueLength"/>
    /// + 1 characters so that an overlong one is still refused) until the file part when <paramref name="stopAtFile"/>,
    /// else to the end (a second file part is skipped, as it always was).
    /// </summary>
    private static async Task<(MultipartSection?, ContentDispositionHeaderValue?)> ReadFieldsAsync(
        MultipartReader reader, List<KeyValuePair<string, string>> fields, bool stopAtFile, CancellationToken cancellationToken)
    {
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (name.Equals(IngestProblems.FilePart, StringComparison.Ordinal))
            {
                if (stopAtFile)
                {
                    return (section, disposition);
                }

                await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                continue;
            }

            fields.Add(new(name, await ReadValueAsync(section.Body, cancellationToken)));
        }

        return (null, null);
    }

    /// <summary>A text field, cut after <see cref="UploadOptions.MaxValueLength"/> + 1 characters (so an overlong one is still refused).</summary>
    internal static async Task<string> ReadValueAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        var buffer = new char[UploadOptions.MaxValueLength + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await reader.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        // The rest of an overlong value is not kept.
        await body.CopyToAsync(Stream.Null, cancellationToken);
        return new string(buffer, 0, length);
    }
}
