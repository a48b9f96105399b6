using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Suite.PipelineWorker.Engines;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>The PNG written from pdftoppm's raw output holds exactly the rendered pixels, in valid chunks.</summary>
public sealed class PngEncoderTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("suite-png-test-");

    public void Dispose() => _work.Delete(recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_rendered_page_round_trips_through_the_png_encoder(bool gray)
    {
        var baseName = Path.Combine(_work.FullName, "page");
        var start = new ProcessStartInfo("pdftoppm") { UseShellExecute = false };
        foreach (var arg in new[] { "-r", "50", "-f", "1", "-l", "1", "-singlefile" }.Concat(gray ? ["-gray"] : Array.Empty<string>()))
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add(RepoPaths.CorpusFile("sf__pdflatex-image.pdf"));
        start.ArgumentList.Add(baseName);
        using (var process = Process.Start(start)!)
        {
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
        }

        var pnm = baseName + (gray ? ".pgm" : ".ppm");
        var (width, height) = PngEncoder.FromPnm(pnm, baseName + ".png");

        var png = await File.ReadAllBytesAsync(baseName + ".png");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal((width, height), PageRenderer.PngSize(baseName + ".png"));
        var (idat, chunks) = Chunks(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks);
        var channels = gray ? 1 : 3;
        using var inflated = new MemoryStream();
        await using (var zlib = new ZLibStream(new MemoryStream(idat), CompressionMode.Decompress))
        {
            await zlib.CopyToAsync(inflated);
        }

        var raw = await File.ReadAllBytesAsync(pnm);
        var pixels = raw[^(width * height * channels)..];
        var decoded = inflated.ToArray();
        Assert.Equal(height * (1 + width * channels), decoded.Length);
        for (var y = 0; y < height; y++)
        {
            Assert.Equal(0, decoded[y * (1 + width * channels)]);
            Assert.True(decoded.AsSpan(y * (1 + width * channels) + 1, width * channels).SequenceEqual(pixels.AsSpan(y * width * channels, width * channels)), $"row {y}");
        }
    }

    /// <summary>The IDAT data and the chunk types, each chunk's CRC checked.</summary>
    private static (byte[] Idat, List<string> Types) Chunks(byte[] png)
    {
        var types = new List<string>();
        byte[] idat = [];
        var at = 8;
        while (at < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length).ToArray();
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(at + 4, 4 + length)), crc);
            types.Add(type);
            if (type == "IDAT")
            {
                idat = data;
            }

            at += 12 + length;
        }

        return (idat, types);
    }
}
