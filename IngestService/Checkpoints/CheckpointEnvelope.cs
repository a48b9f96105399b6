using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IngestService.Storage;

namespace IngestService.Checkpoints;

/// <summary>
/// The on-disk format of a checkpoint: a fixed 512-byte header, then the payload exactly as the worker sent it.
/// The header is the line <c>SUITE-CHECKPOINT</c> followed by one JSON line (envelope version, the payload's schema
/// version, document, stage, SHA-256 and size of the payload, lease, time), padded with spaces. Written through a
/// temp file in one pass (header space reserved, payload streamed and hashed, header filled in, flushed to disk)
/// and renamed into place by the caller; on read every field is checked before a byte is served (Req CK-1, CK-2).
/// </summary>
internal static class CheckpointEnvelope
{
    public const int HeaderBytes = 512;
    public const int Version = 1;

    private static readonly byte[] Magic = "SUITE-CHECKPOINT\n"u8.ToArray();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Streams <paramref name="payload"/> into a new envelope at <paramref name="tempPath"/> and flushes it to disk.
    /// Returns the payload's checksum and size, or <see cref="BlobWrite.TooLarge"/> (temp file removed) past the limit.
    /// </summary>
    public static async Task<BlobWrite> WriteAsync(
        Stream payload, string tempPath, string documentId, string stage, int schemaVersion, long leaseToken, DateTimeOffset at, long maxBytes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var kept = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = BlobStore.CreateTempFile(tempPath))
            {
                await file.WriteAsync(new byte[HeaderBytes], cancellationToken);
                var (status, size) = await BlobStore.CopyBodyAsync(payload, file, hash, maxBytes, inspect: null, cancellationToken);
                if (status != BlobWriteStatus.Written)
                {
                    return BlobWrite.TooLarge;
                }

                var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                var header = new EnvelopeHeader(Version, schemaVersion, documentId, stage, sha, size, leaseToken,
                    at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                file.Position = 0;
                await file.WriteAsync(Encode(header), cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                kept = true;
                return new BlobWrite(BlobWriteStatus.Written, sha, size);
            }
        }
        finally
        {
            if (!kept)
            {
                BlobStore.DeleteQuietly(tempPath);
            }
        }
    }

    /// <summary>
    /// Opens and fully checks a stored checkpoint: header, owner, schema version (when <paramref name="acceptSchema"/>
    /// is given), length and SHA-256 against both the header and the catalog. A valid one comes back as a stream
    /// positioned at the payload (the caller disposes it); an invalid one as the reason, with nothing left open.
    /// </summary>
    public static async Task<EnvelopeCheck> OpenAsync(
        string path, string documentId, string stage, string catalogSha256, int? acceptSchema, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        }
        catch (FileNotFoundException)
        {
            return EnvelopeCheck.Invalid("the checkpoint file is missing from storage");
        }
        catch (DirectoryNotFoundException)
        {
            return EnvelopeCheck.Invalid("the checkpoint file is missing from storage");
        }

        var valid = false;
        try
        {
            var (header, reason) = await CheckAsync(file, documentId, stage, catalogSha256, acceptSchema, cancellationToken);
            if (header is null)
            {
                return EnvelopeCheck.Invalid(reason!);
            }

            file.Position = HeaderBytes;
            valid = true;
            return new EnvelopeCheck(null, file, header);
        }
        finally
        {
            if (!valid)
            {
                await file.DisposeAsync();
            }
        }
    }

    private static async Task<(EnvelopeHeader? Header, string? Problem)> CheckAsync(
        FileStream file, string documentId, string stage, string catalogSha256, int? acceptSchema, CancellationToken cancellationToken)
    {
        var (header, problem) = ReadHeader(file.Length, await ReadHeaderBytesAsync(file, cancellationToken));
        if (header is null)
        {
            return (null, problem);
        }

        return (await ProblemOfAsync(file, header, documentId, stage, catalogSha256, acceptSchema, cancellationToken)) is { } reason
            ? (null, reason)
            : (header, null);
    }

    private static async Task<string?> ProblemOfAsync(
        FileStream file, EnvelopeHeader header, string documentId, string stage, string catalogSha256, int? acceptSchema, CancellationToken cancellationToken)
    {
        if (header.Envelope != Version)
        {
            return $"envelope version {header.Envelope}, this service reads version {Version}";
        }

        if (!string.Equals(header.DocumentId, documentId, StringComparison.Ordinal) || !string.Equals(header.Stage, stage, StringComparison.Ordinal))
        {
            return $"the envelope belongs to document {header.DocumentId}, stage {header.Stage}";
        }

        if (acceptSchema is { } accepted && header.SchemaVersion != accepted)
        {
            return $"schema version {header.SchemaVersion}, the worker reads version {accepted}";
        }

        var payloadBytes = file.Length - HeaderBytes;
        if (payloadBytes != header.SizeBytes)
        {
            return $"truncated or extended: the payload has {payloadBytes} bytes, the envelope says {header.SizeBytes}";
        }

        file.Position = HeaderBytes;
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
        if (!string.Equals(actual, header.Sha256, StringComparison.Ordinal))
        {
            return $"checksum mismatch: the payload hashes to {actual}, the envelope says {header.Sha256}";
        }

        if (!string.Equals(actual, catalogSha256, StringComparison.Ordinal))
        {
            return $"checksum mismatch: the payload hashes to {actual}, the catalog recorded {catalogSha256}";
        }

        return null;
    }

    private static async Task<byte[]> ReadHeaderBytesAsync(FileStream file, CancellationToken cancellationToken)
    {
        file.Position = 0;
        var buffer = new byte[Math.Min(HeaderBytes, file.Length)];
        await file.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    private static (EnvelopeHeader? Header, string? Problem) ReadHeader(long fileLength, byte[] bytes)
    {
        if (fileLength < HeaderBytes)
        {
            return (null, $"truncated: {fileLength} bytes, shorter than the {HeaderBytes}-byte envelope header");
        }

        if (!bytes.AsSpan().StartsWith(Magic))
        {
            return (null, "not a checkpoint envelope (the file does not start with SUITE-CHECKPOINT)");
        }

        try
        {
            var json = Encoding.UTF8.GetString(bytes, Magic.Length, HeaderBytes - Magic.Length).Trim();
            var header = JsonSerializer.Deserialize<EnvelopeHeader>(json, Json);
            return header is null || header.Sha256 is null || header.DocumentId is null || header.Stage is null
                ? (null, "the envelope header is incomplete")
                : (header, null);
        }
        catch (Exception ex) when (ex is JsonException or DecoderFallbackException)
        {
            return (null, "the envelope header is unreadable: " + ex.Message);
        }
    }

    private static byte[] Encode(EnvelopeHeader header)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        if (Magic.Length + json.Length + 1 > HeaderBytes)
        {
            throw new InvalidOperationException("The checkpoint envelope header does not fit in its reserved space.");
        }

        var bytes = new byte[HeaderBytes];
        bytes.AsSpan().Fill((byte)' ');
        Magic.CopyTo(bytes, 0);
        json.CopyTo(bytes, Magic.Length);
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}

/// <summary>The envelope header; <see cref="SchemaVersion"/> is the payload's format as the worker declared it (0 = not declared).</summary>
internal sealed record EnvelopeHeader(
    int Envelope,
    int SchemaVersion,
    string DocumentId,
    string Stage,
    string Sha256,
    long SizeBytes,
    long LeaseToken,
    string WrittenAt);

/// <summary>A checked checkpoint: either the open payload stream and its header, or why it cannot be used.</summary>
internal sealed record EnvelopeCheck(string? Problem, FileStream? Payload, EnvelopeHeader? Header)
{
    public static EnvelopeCheck Invalid(string problem) => new(problem, null, null);
}
