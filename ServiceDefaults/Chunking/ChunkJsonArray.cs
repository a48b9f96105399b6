using System.Text;

namespace Suite.Chunking;

/// <summary>
/// Chunks as one JSON array (<c>application/json</c>), for clients that cannot read JSON Lines: the same objects, byte
/// for byte, between brackets and commas, still written as they come.
/// </summary>
public static class ChunkJsonArray
{
    public const string MediaType = "application/json";

    private static readonly ReadOnlyMemory<byte> Open = "["u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Comma = ","u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Close = "]"u8.ToArray();

    /// <summary>Turns stored JSON Lines into an array, line by line: a precomputed file is never read whole.</summary>
    public static async Task CopyFromJsonLinesAsync(Stream jsonLines, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jsonLines);
        ArgumentNullException.ThrowIfNull(output);
        using var reader = new StreamReader(jsonLines, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        await output.WriteAsync(Open, cancellationToken);
        var first = true;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!first)
            {
                await output.WriteAsync(Comma, cancellationToken);
            }

            await output.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
            first = false;
        }

        await output.WriteAsync(Close, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>Writes freshly made chunks as an array (through JSON Lines, so both forms hold the same bytes per chunk).</summary>
    public static async Task WriteAsync(IEnumerable<DocumentChunk> chunks, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        await output.WriteAsync(Open, cancellationToken);
        var first = true;
        using var line = new MemoryStream();
        foreach (var chunk in chunks)
        {
            line.SetLength(0);
            await ChunkJsonLines.WriteAsync([chunk], line, cancellationToken);
            if (!first)
            {
                await output.WriteAsync(Comma, cancellationToken);
            }

            // Without the line's closing newline.
            await output.WriteAsync(line.GetBuffer().AsMemory(0, (int)line.Length - 1), cancellationToken);
            first = false;
        }

        await output.WriteAsync(Close, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }
}
