using Suite.Contracts;

namespace IngestService.Documents;

/// <summary>
/// Recognises an upload's format while it streams in (Req IN-1): it keeps the first <see cref="DocumentFormats.HeadBytes"/>
/// bytes, so an upload that is none of the formats the suite reads is refused as soon as they are known rather than
/// after the whole body. A zip archive is only known to be DOCX or PPTX from its parts, once the file is complete.
/// </summary>
internal sealed class FormatSniffer
{
    private readonly byte[] _head = new byte[DocumentFormats.HeadBytes];
    private int _length;
    private bool? _readable;

    /// <summary>Feeds the next bytes; false as soon as the head is known to be no format the suite reads.</summary>
    public bool Observe(ReadOnlySpan<byte> chunk)
    {
        if (_readable is { } known)
        {
            return known;
        }

        var take = Math.Min(chunk.Length, _head.Length - _length);
        chunk[..take].CopyTo(_head.AsSpan(_length));
        _length += take;
        if (_length == _head.Length)
        {
            _readable = DocumentFormats.Sniff(_head) is not null;
            return _readable.Value;
        }

        return true;
    }

    /// <summary>The format of the complete file at <paramref name="path"/> (the one these bytes were written to), or null.</summary>
    public string? FormatOf(string path) =>
        DocumentFormats.Sniff(_head.AsSpan(0, _length)) is null ? null : DocumentFormats.Detect(path);
}
