using System.Text.Json;

namespace Suite.Chunking;

/// <summary>Chunks as JSON Lines (<c>application/x-ndjson</c>): one JSON object a line, written as they are made.</summary>
public static class ChunkJsonLines
{
    public const string MediaType = "application/x-ndjson";

    /// <summary>The other name of JSON Lines; a client accepting it gets JSON Lines (labelled <see cref="MediaType"/>).</summary>
    public const string AlternativeMediaType = "application/jsonl";

    // Never a synchronous write: the response stream of ASP.NET Core refuses them.
    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes each chunk on its own line, flushing every few chunks so that a client reads them as they come.</summary>
    public static async Task WriteAsync(IEnumerable<DocumentChunk> chunks, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentNullException.ThrowIfNull(output);
        var written = 0;
        foreach (var chunk in chunks)
        {
            await JsonSerializer.SerializeAsync(output, chunk, Options, cancellationToken);
            await output.WriteAsync(NewLine, cancellationToken);
            if (++written % 16 == 0)
            {
                await output.FlushAsync(cancellationToken);
            }
        }

        await output.FlushAsync(cancellationToken);
    }

    public static DocumentChunk Parse(string line) =>
        JsonSerializer.Deserialize<DocumentChunk>(line, Options) ?? throw new JsonException("A chunk line was null.");
}
