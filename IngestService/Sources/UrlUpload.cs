using IngestService.Documents;
using Microsoft.Extensions.Options;

namespace IngestService.Sources;

/// <summary>
/// The URL way of an upload (<c>POST /api/documents</c> with a JSON body <c>{"url": …, "fileName"?: …, options…}</c>): the body
/// read and checked, the document fetched into the upload's temp file with the same size limit and format check as a
/// multipart file, and named by the client's fileName, else the remote's Content-Disposition, else the URL's last path
/// segment (sanitized like any file name, Req IN-2).
/// </summary>
internal sealed class UrlUpload(UrlFetcher fetcher, UploadOptions uploadOptions, IOptions<SourceOptions> options)
{
    public async Task<ReceivedUpload> ReceiveAsync(HttpContext http, string tempPath, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (request, problem) = await UrlSourceRequest.ReadAsync(http.Request, cancellationToken);
        if (problem is not null)
        {
            return ReceivedUpload.Refused(problem);
        }

        // The options are checked before anything is fetched.
        var (documentOptions, refusal) = await uploadOptions.ReadAsync(request!.OptionFields, cancellationToken);
        if (refusal is not null)
        {
            return ReceivedUpload.Refused(refusal);
        }

        var sniffer = new FormatSniffer();
        FetchedBody fetched;
        try
        {
            fetched = await fetcher.FetchAsync(request.Url, tempPath, maxBytes, chunk => sniffer.Observe(chunk.Span), cancellationToken);
        }
        catch (UrlRefusedException ex)
        {
            return ReceivedUpload.Refused(SourceProblems.For(ex.Refusal, options.Value));
        }

        var name = new[] { request.FileName, fetched.DispositionFileName, SourceUrls.LastSegment(fetched.FinalUrl) }
            .FirstOrDefault(n => !string.IsNullOrWhiteSpace(n));
        return ReceivedUpload.Check(fetched.Written, sniffer, tempPath, maxBytes, FileNames.ForDisplay(name), SourceUrls.ForRecord(request.Url), SourceProblems.EmptyBody, documentOptions, UploadOptions.RetainFor(request.OptionFields))
            .WithCallback(UploadOptions.CallbackUrlOf(request.OptionFields));
    }
}
