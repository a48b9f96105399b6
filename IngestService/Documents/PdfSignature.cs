namespace IngestService.Documents;

/// <summary>
/// Decides by magic bytes, not by name or declared content type, whether an upload is a PDF (Req IN-1): the
/// "%PDF-" signature must appear within the first 1024 bytes. PDF readers (Acrobat, pdf.js, PdfPig) tolerate
/// junk before the header, and so do we, within that window.
/// </summary>
internal sealed class PdfSignature
{
    public const int Window = 1024;
    private static readonly byte[] Magic = "%PDF-"u8.ToArray();

    private readonly byte[] _head = new byte[Window];
    private int _length;
    private bool? _verdict;

    /// <summary>Feeds the next bytes; false as soon as the first 1024 bytes are known to hold no signature.</summary>
    public bool Observe(ReadOnlySpan<byte> chunk)
    {
        if (_verdict is { } known)
        {
            return known;
        }

        var take = Math.Min(chunk.Length, Window - _length);
        chunk[..take].CopyTo(_head.AsSpan(_length));
        _length += take;
        if (_length == Window)
        {
            _verdict = Contains();
            return _verdict.Value;
        }

        return true;
    }

    /// <summary>The verdict once the stream ended (it may be shorter than the window).</summary>
    public bool IsPdf => _verdict ?? Contains();

    private bool Contains() => _head.AsSpan(0, _length).IndexOf(Magic) >= 0;
}
