using IngestService.Api;
using IngestService.Storage;

namespace IngestService.Documents;

/// <summary>
/// An upload's file in its temp file, checked, with the format its bytes were recognised as, the name it is shown under,
/// for a URL upload the URL it came from as the catalog keeps it, the pipeline options the upload asked for, and the
/// callbackUrl its end is notified at (checked), if any.
/// </summary>
internal sealed record ReceivedFile(BlobWrite Written, string Format, string FileName, string? SourceUrl, Suite.Contracts.DocumentOptions Options, string? RetainFor = null)
{
    public string? CallbackUrl { get; init; }
}

/// <summary>What receiving an upload's file gave, whichever way it came (multipart or URL): the file, or the problem that ends the upload.</summary>
internal readonly record struct ReceivedUpload(ReceivedFile? File, IResult? Problem)
{
    public static ReceivedUpload Refused(IResult problem) => new(null, problem);

    /// <summary>The same upload with the callbackUrl its fields gave (nothing changes for a refusal or without one).</summary>
    public ReceivedUpload WithCallback(string? callbackUrl) =>
        File is null || callbackUrl is null ? this : this with { File = File with { CallbackUrl = callbackUrl } };

    /// <summary>
    /// The checks every upload's bytes get once streamed into <paramref name="tempPath"/>, whatever brought them: over
    /// Ingest:MaxUploadBytes 413 (Req LS-6), no format the suite reads 415 (Req IN-1), empty 400 (Req IN-3, in the words
    /// of the way it came).
    /// </summary>
    public static ReceivedUpload Check(
        BlobWrite written, FormatSniffer sniffer, string tempPath, long maxBytes, string fileName, string? sourceUrl, Func<IResult> empty, Suite.Contracts.DocumentOptions? options, string? retainFor = null)
    {
        ArgumentNullException.ThrowIfNull(written);
        ArgumentNullException.ThrowIfNull(sniffer);
        ArgumentNullException.ThrowIfNull(empty);
        return written.Status switch
        {
            BlobWriteStatus.TooLarge => Refused(IngestProblems.FileTooLarge(maxBytes)),
            BlobWriteStatus.Refused => Refused(IngestProblems.UnsupportedFormat()),
            _ when written.SizeBytes == 0 => Refused(empty()),
            _ => sniffer.FormatOf(tempPath) is { } format
                ? new ReceivedUpload(new ReceivedFile(written, format, fileName, sourceUrl, options ?? Suite.Contracts.DocumentOptions.Default, retainFor), null)
                : Refused(IngestProblems.UnsupportedFormat()),
        };
    }
}
