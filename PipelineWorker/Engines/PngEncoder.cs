using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// Turns pdftoppm's raw PPM/PGM output into a PNG, row by row with fast zlib compression. pdftoppm's own PNG
/// writer compresses hard and costs four times the rendering itself on text pages; page images are previews, so
/// speed matters more than the last kilobytes. Memory: one row plus the compressed output.
/// </summary>
internal static class PngEncoder
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Encodes <paramref name="pnmPath"/> (binary P6 RGB or P5 gray, 8 bit) as <paramref name="pngPath"/>; returns its size.</summary>
    public static (int Width, int Height) FromPnm(string pnmPath, string pngPath)
    {
        using var input = new BufferedStream(File.OpenRead(pnmPath), 64 * 1024);
        var (channels, width, height) = ReadHeader(input);
        var row = new byte[width * channels];
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                input.ReadExactly(row);
                zlib.WriteByte(0); // filter: none
                zlib.Write(row);
            }
        }

        using var output = File.Create(pngPath);
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = channels == 3 ? (byte)2 : (byte)0; // truecolour or greyscale
        WriteChunk(output, "IHDR", header);
        WriteChunk(output, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND", []);
        return (width, height);
    }

    private static (int Channels, int Width, int Height) ReadHeader(Stream input)
    {
        var magic = Token(input);
        var channels = magic switch
        {
            "P6" => 3,
            "P5" => 1,
            _ => throw new EngineException(EngineFailureKind.Failed, $"the renderer wrote an unexpected image format ({magic})"),
        };
        var width = int.Parse(Token(input), System.Globalization.CultureInfo.InvariantCulture);
        var height = int.Parse(Token(input), System.Globalization.CultureInfo.InvariantCulture);
        var max = int.Parse(Token(input), System.Globalization.CultureInfo.InvariantCulture);
        if (max != 255 || width <= 0 || height <= 0)
        {
            throw new EngineException(EngineFailureKind.Failed, $"the renderer wrote an unsupported image ({width}x{height}, max {max})");
        }

        return (channels, width, height);
    }

    /// <summary>The next header token; skips whitespace and # comments, consumes the single whitespace after it.</summary>
    private static string Token(Stream input)
    {
        var token = new StringBuilder();
        while (true)
        {
            var b = input.ReadByte();
            if (b < 0)
            {
                throw new EngineException(EngineFailureKind.Failed, "the renderer wrote a truncated image");
            }

            if (b == '#' && token.Length == 0)
            {
                while (b >= 0 && b != '\n')
                {
                    b = input.ReadByte();
                }

                continue;
            }

            if (char.IsWhiteSpace((char)b))
            {
                if (token.Length > 0)
                {
                    return token.ToString();
                }

                continue;
            }

            token.Append((char)b);
        }
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
