using System.IO.Compression;
using Suite.PipelineWorker.Stages;

namespace Suite.PipelineWorker.Readers;

/// <summary>
/// A DOCX or PPTX (a zip package) made safe to open: its central directory is checked first (entry count, declared
/// sizes, compression ratio), then every entry is copied into a fresh package in the work folder with the bytes
/// actually read counted against the same limits (declared sizes can lie), and every XML part scanned for a document
/// type declaration, which an Office part never needs and which is how entity expansion starts. Only that copy is given
/// to the Open XML SDK. The copy is deleted when this is disposed.
/// </summary>
internal sealed class SafePackage : IDisposable
{
    private const long RatioCheckedFrom = 1024 * 1024;

    private SafePackage(string path) => Path = path;

    /// <summary>The checked copy.</summary>
    public string Path { get; }

    public static SafePackage Create(string source, ReaderOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var copy = source + "." + Guid.NewGuid().ToString("N")[..8] + ".checked";
        try
        {
            using var input = OpenArchive(source);
            CheckDirectory(input, limits);
            using (var output = ZipFile.Open(copy, ZipArchiveMode.Create))
            {
                long total = 0;
                var buffer = new byte[64 * 1024];
                foreach (var entry in input.Entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var xml = entry.FullName.EndsWith(".xml", StringComparison.OrdinalIgnoreCase) || entry.FullName.EndsWith(".rels", StringComparison.OrdinalIgnoreCase);
                    var target = output.CreateEntry(entry.FullName, CompressionLevel.Fastest);
                    using var from = OpenEntry(entry);
                    using var to = target.Open();
                    long entryBytes = 0;
                    var scanner = new DoctypeScanner();
                    int read;
                    while ((read = from.Read(buffer)) > 0)
                    {
                        entryBytes += read;
                        total += read;
                        if (entryBytes > limits.MaxZipEntryBytes || total > limits.MaxZipTotalBytes)
                        {
                            throw Bomb($"the entry {entry.FullName} expands beyond {(entryBytes > limits.MaxZipEntryBytes ? limits.MaxZipEntryBytes : limits.MaxZipTotalBytes)} bytes while reading");
                        }

                        if (xml && scanner.Found(buffer.AsSpan(0, read)))
                        {
                            throw new PipelineFailure(
                                FailureCodes.XmlEntityExpansion,
                                $"The part {entry.FullName} declares a document type (<!DOCTYPE or <!ENTITY), which Office files never need and which expands entities (the 'billion laughs'). The file was refused; save it again from its application.");
                        }

                        to.Write(buffer, 0, read);
                    }
                }
            }

            return new SafePackage(copy);
        }
        catch
        {
            File.Delete(copy);
            throw;
        }
    }

    public void Dispose() => File.Delete(Path);

    private static ZipArchive OpenArchive(string path)
    {
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException ex)
        {
            throw new PipelineFailure(FailureCodes.CorruptStructure, $"The file's zip structure is damaged ({ex.Message}). Save it again from its application and upload it again.", ex);
        }
    }

    private static Stream OpenEntry(ZipArchiveEntry entry)
    {
        try
        {
            return entry.Open();
        }
        catch (InvalidDataException ex)
        {
            throw new PipelineFailure(FailureCodes.CorruptStructure, $"The zip entry {entry.FullName} cannot be read ({ex.Message}). Save the file again and upload it again.", ex);
        }
    }

    /// <summary>What the central directory declares, before a byte is expanded.</summary>
    private static void CheckDirectory(ZipArchive archive, ReaderOptions limits)
    {
        if (archive.Entries.Count > limits.MaxZipEntries)
        {
            throw Bomb($"it has {archive.Entries.Count} entries (at most {limits.MaxZipEntries}, Worker:Readers:MaxZipEntries)");
        }

        long total = 0;
        foreach (var entry in archive.Entries)
        {
            total += entry.Length;
            if (entry.Length > limits.MaxZipEntryBytes)
            {
                throw Bomb($"the entry {entry.FullName} declares {entry.Length} bytes expanded (at most {limits.MaxZipEntryBytes}, Worker:Readers:MaxZipEntryBytes)");
            }

            if (entry.Length > RatioCheckedFrom && entry.Length > (double)Math.Max(1, entry.CompressedLength) * limits.MaxCompressionRatio)
            {
                throw Bomb($"the entry {entry.FullName} expands {entry.Length / Math.Max(1, entry.CompressedLength)} times (at most {limits.MaxCompressionRatio}, Worker:Readers:MaxCompressionRatio)");
            }
        }

        if (total > limits.MaxZipTotalBytes)
        {
            throw Bomb($"its entries declare {total} bytes expanded (at most {limits.MaxZipTotalBytes}, Worker:Readers:MaxZipTotalBytes)");
        }
    }

    private static PipelineFailure Bomb(string why) => new(
        FailureCodes.ZipBomb,
        $"The file was refused as a zip bomb: {why}. A real document this large should be split; otherwise the file is hostile.");

    /// <summary>Finds "&lt;!DOCTYPE" or "&lt;!ENTITY" (XML is case-sensitive) in a stream of chunks; a match may straddle two chunks.</summary>
    private sealed class DoctypeScanner
    {
        private const int Keep = 8;
        private byte[] _tail = [];

        public bool Found(ReadOnlySpan<byte> chunk)
        {
            var seam = new byte[_tail.Length + Math.Min(Keep, chunk.Length)];
            _tail.CopyTo(seam, 0);
            chunk[..Math.Min(Keep, chunk.Length)].CopyTo(seam.AsSpan(_tail.Length));
            if (Contains(seam) || Contains(chunk))
            {
                return true;
            }

            var joined = chunk.Length >= Keep ? chunk[^Keep..].ToArray() : [.. _tail, .. chunk];
            _tail = joined.Length > Keep ? joined[^Keep..] : joined;
            return false;
        }

        private static bool Contains(ReadOnlySpan<byte> data) => data.IndexOf("<!DOCTYPE"u8) >= 0 || data.IndexOf("<!ENTITY"u8) >= 0;
    }
}
