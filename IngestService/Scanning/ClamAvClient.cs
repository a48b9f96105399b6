using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace IngestService.Scanning;

/// <summary>What clamd said about one stream.</summary>
internal enum ClamAvVerdict
{
    Clean,
    Infected,

    /// <summary>clamd answered but could not scan (e.g. "INSTREAM size limit exceeded. ERROR").</summary>
    Error,
}

/// <summary>clamd's answer to INSTREAM: the verdict, the signature name when infected, the text as sent.</summary>
internal sealed record ClamAvReply(ClamAvVerdict Verdict, string? Signature, string Text);

/// <summary>clamd answered something that is not its protocol (or closed without answering).</summary>
internal sealed class ClamAvProtocolException(string message) : IOException(message);

/// <summary>
/// The clamd protocol over TCP, by hand: one connection per command, NUL-terminated commands and replies
/// (<c>z</c> prefix). <c>zPING</c> is answered <c>PONG</c>; <c>zINSTREAM</c> takes the content as chunks, each
/// preceded by its length as a 4-byte big-endian unsigned integer, closed by a zero-length chunk, and is answered
/// <c>stream: OK</c>, <c>stream: &lt;signature&gt; FOUND</c> or <c>&lt;reason&gt; ERROR</c>. No timeout of its own:
/// callers bound every call with a cancellation token (the scanner's Polly timeout).
/// </summary>
internal sealed class ClamAvClient(ClamAvEndpoint endpoint)
{
    /// <summary>Bytes per INSTREAM chunk (clamd reads chunks of any size up to StreamMaxLength).</summary>
    public const int ChunkBytes = 64 * 1024;

    private const int MaxReplyBytes = 4096;

    public ClamAvEndpoint Endpoint => endpoint;

    /// <summary>True when clamd answers PONG.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("zPING\0"u8.ToArray(), cancellationToken);
        return await ReadReplyAsync(stream, cancellationToken) == "PONG";
    }

    /// <summary>Streams <paramref name="content"/> to clamd (INSTREAM) and returns its verdict.</summary>
    public async Task<ClamAvReply> ScanAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var client = await ConnectAsync(cancellationToken);
        var stream = client.GetStream();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes + 4);
        try
        {
            await stream.WriteAsync("zINSTREAM\0"u8.ToArray(), cancellationToken);
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(4, ChunkBytes), cancellationToken)) > 0)
            {
                BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)read);
                await stream.WriteAsync(buffer.AsMemory(0, 4 + read), cancellationToken);
            }

            BinaryPrimitives.WriteUInt32BigEndian(buffer, 0);
            await stream.WriteAsync(buffer.AsMemory(0, 4), cancellationToken);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            // clamd stops reading and answers when the stream passes its StreamMaxLength, then closes: what it said
            // (if anything) is the answer; otherwise the connection really failed.
            return Parse(await ReadReplyAsync(stream, cancellationToken));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Parse(await ReadReplyAsync(stream, cancellationToken));
    }

    /// <summary>Reads the NUL-terminated reply (or up to the close), bounded in size.</summary>
    private static async Task<string> ReadReplyAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var reply = new byte[MaxReplyBytes];
        var length = 0;
        while (length < reply.Length)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(reply.AsMemory(length), cancellationToken);
            }
            catch (IOException) when (length > 0)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            length += read;
            var end = Array.IndexOf(reply, (byte)0, 0, length);
            if (end >= 0)
            {
                return Encoding.ASCII.GetString(reply, 0, end).Trim();
            }
        }

        if (length == 0)
        {
            throw new ClamAvProtocolException("clamd closed the connection without answering.");
        }

        return Encoding.ASCII.GetString(reply, 0, length).TrimEnd('\0', '\n', ' ');
    }

    /// <summary>"stream: OK", "stream: Name FOUND", "reason ERROR"; anything else is a protocol error.</summary>
    internal static ClamAvReply Parse(string text)
    {
        if (text.EndsWith(" FOUND", StringComparison.Ordinal))
        {
            var body = text[..^" FOUND".Length];
            var colon = body.IndexOf(": ", StringComparison.Ordinal);
            var signature = (colon >= 0 ? body[(colon + 2)..] : body).Trim();
            return new ClamAvReply(ClamAvVerdict.Infected, signature.Length == 0 ? "unnamed signature" : signature, text);
        }

        if (text.EndsWith(" ERROR", StringComparison.Ordinal))
        {
            return new ClamAvReply(ClamAvVerdict.Error, null, text);
        }

        if (text.EndsWith(": OK", StringComparison.Ordinal))
        {
            return new ClamAvReply(ClamAvVerdict.Clean, null, text);
        }

        throw new ClamAvProtocolException($"clamd answered something unexpected: '{(text.Length > 200 ? text[..200] : text)}'.");
    }

    private async Task<TcpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>Where clamd listens, from a connection string <c>tcp://host:port</c>.</summary>
internal sealed record ClamAvEndpoint(string Host, int Port)
{
    public override string ToString() => $"tcp://{Host}:{Port}";

    public static bool TryParse(string? connectionString, out ClamAvEndpoint endpoint)
    {
        endpoint = new ClamAvEndpoint("", 0);
        if (!Uri.TryCreate(connectionString?.Trim(), UriKind.Absolute, out var uri)
            || !string.Equals(uri.Scheme, "tcp", StringComparison.OrdinalIgnoreCase)
            || uri.Port is <= 0 or > 65535 || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }

        endpoint = new ClamAvEndpoint(uri.Host.Trim('[', ']'), uri.Port);
        return true;
    }
}
