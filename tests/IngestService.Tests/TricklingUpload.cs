using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace IngestService.Tests;

/// <summary>
/// A multipart upload (part <c>file</c>) whose body trickles in: chunks with a pause after each, so a test can act
/// while the upload is in flight. <see cref="Sent"/> completes once the given share of the file has gone out.
/// </summary>
internal sealed class TricklingUpload : HttpContent
{
    private const string Boundary = "trickling-upload-boundary";
    private readonly byte[] _head;
    private readonly byte[] _file;
    private readonly byte[] _tail;
    private readonly int _chunkBytes;
    private readonly TimeSpan _pause;
    private readonly long _signalAfterBytes;
    private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TricklingUpload(byte[] file, string fileName, int chunkBytes, TimeSpan pause, double signalAfterShare)
    {
        _file = file;
        _chunkBytes = chunkBytes;
        _pause = pause;
        _signalAfterBytes = (long)(file.Length * signalAfterShare);
        _head = Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: application/pdf\r\n\r\n");
        _tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
    }

    /// <summary>Completes once the signalled share of the file has been written to the connection.</summary>
    public Task Sent => _sent.Task;

    /// <summary>A valid PDF padded with comment lines after its end to <paramref name="bytes"/> bytes.</summary>
    public static byte[] PaddedPdf(byte[] pdf, int bytes)
    {
        var padded = new byte[Math.Max(bytes, pdf.Length)];
        pdf.CopyTo(padded, 0);
        var filler = Encoding.ASCII.GetBytes("\n% padding of a large upload");
        for (var at = pdf.Length; at < padded.Length; at++)
        {
            padded[at] = filler[(at - pdf.Length) % filler.Length];
        }

        return padded;
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(_head);
        for (var at = 0; at < _file.Length; at += _chunkBytes)
        {
            await stream.WriteAsync(_file.AsMemory(at, Math.Min(_chunkBytes, _file.Length - at)));
            await stream.FlushAsync();
            if (at + _chunkBytes >= _signalAfterBytes)
            {
                _sent.TrySetResult();
            }

            await Task.Delay(_pause);
        }

        await stream.WriteAsync(_tail);
        _sent.TrySetResult();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _head.Length + _file.Length + _tail.Length;
        return true;
    }
}
