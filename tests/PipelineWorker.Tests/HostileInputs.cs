using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace PipelineWorker.Tests;

/// <summary>Hostile files of each new format, generated here: each must end with its own failure code.</summary>
internal static class HostileInputs
{
    private const string ContentTypes =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
        "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" +
        "<Default Extension=\"xml\" ContentType=\"application/xml\"/><Default Extension=\"bin\" ContentType=\"application/octet-stream\"/>" +
        "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";

    private const string PackageRels =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
        "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";

    private const string Body = "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>{0}</w:t></w:r></w:p></w:body></w:document>";

    /// <summary>A DOCX whose one extra entry expands 64 MiB of zeros from a few dozen KiB.</summary>
    public static byte[] ZipBomb() => Package(string.Format(null, Body, "bomb"), ("word/media/zeros.bin", new byte[64 * 1024 * 1024]));

    /// <summary>A DOCX whose document part declares nested entities (the "billion laughs").</summary>
    /// <summary>
    /// The zip bomb with its entry's expanded size declared as 1000 bytes, in the local header and the central directory
    /// alike: the directory's checks pass, so only counting the bytes actually read stops it.
    /// </summary>
    public static byte[] LyingZipBomb()
    {
        var zip = ZipBomb();
        var name = Encoding.ASCII.GetBytes("word/media/zeros.bin");
        var declared = BitConverter.GetBytes(1000u);
        var patched = 0;
        for (var i = 0; i + 46 + name.Length <= zip.Length; i++)
        {
            // Local file header (PK 3 4): uncompressed size at 22, name at 30. Central directory header (PK 1 2): at 24 and 46.
            var (sizeAt, nameAt) = zip.AsSpan(i, 4) switch
            {
                [0x50, 0x4B, 0x03, 0x04] => (22, 30),
                [0x50, 0x4B, 0x01, 0x02] => (24, 46),
                _ => (-1, -1),
            };
            if (sizeAt > 0 && zip.AsSpan(i + nameAt, name.Length).SequenceEqual(name))
            {
                declared.CopyTo(zip, i + sizeAt);
                patched++;
            }
        }

        return patched == 2 ? zip : throw new InvalidOperationException($"patched {patched} headers of the bomb's entry, expected 2");
    }

    public static byte[] BillionLaughs()
    {
        var dtd = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for (var i = 1; i <= 9; i++)
        {
            dtd.Append("<!ENTITY lol").Append(i).Append(" \"").Append(string.Concat(Enumerable.Repeat(i == 1 ? "&lol;" : $"&lol{i - 1};", 10))).Append("\">");
        }

        dtd.Append("]>");
        return Package(dtd + string.Format(null, Body, "&lol9;"));
    }

    /// <summary>A DOCX (written with the SDK) with an image relationship to a URL, and optionally only a hyperlink.</summary>
    public static byte[] ExternalRelationship(bool hyperlinkOnly)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            var link = main.AddHyperlinkRelationship(new Uri("https://example.invalid/harbour"), true);
            main.Document = new Document(new Body(
                new Paragraph(new Run(new Text("The harbour report is online at "))),
                new Paragraph(new Hyperlink(new Run(new Text("the council site"))) { Id = link.Id })));
            if (!hyperlinkOnly)
            {
                main.AddExternalRelationship("http://schemas.openxmlformats.org/officeDocument/2006/relationships/image", new Uri("https://example.invalid/tracker.png"));
            }
        }

        return stream.ToArray();
    }

    /// <summary>An HTML page of a million nested div elements.</summary>
    public static byte[] DeepHtml(int depth = 1_000_000)
    {
        var html = new StringBuilder("<!DOCTYPE html><html><head><title>deep</title></head><body>", (depth * 11) + 100);
        html.Insert(html.Length, "<div>", depth).Append("deep text").Insert(html.Length, "</div>", depth).Append("</body></html>");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    /// <summary>Markdown whose block quotes nest a hundred thousand deep.</summary>
    public static byte[] DeepMarkdown() => Encoding.UTF8.GetBytes("# Deep\n\n" + new string('>', 100_000) + " quoted\n");

    /// <summary>A PNG whose header claims 100000×100000 pixels (grey, 8 bits), with a token of image data.</summary>
    public static byte[] HugePng()
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, 100_000);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 100_000);
        header[8] = 8;
        Chunk(png, "IHDR", header);
        using (var data = new MemoryStream())
        {
            using (var zlib = new ZLibStream(data, CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(new byte[1024]);
            }

            Chunk(png, "IDAT", data.ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typed));
        png.Write(length);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static byte[] Package(string document, params (string Name, byte[] Bytes)[] extra)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "[Content_Types].xml", Encoding.UTF8.GetBytes(ContentTypes));
            Write(zip, "_rels/.rels", Encoding.UTF8.GetBytes(PackageRels));
            Write(zip, "word/document.xml", Encoding.UTF8.GetBytes(document));
            foreach (var (name, bytes) in extra)
            {
                Write(zip, name, bytes);
            }
        }

        return stream.ToArray();
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
        entry.Write(bytes);
    }
}
