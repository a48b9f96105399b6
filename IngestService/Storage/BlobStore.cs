using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Suite.Contracts;

namespace IngestService.Storage;

/// <summary>
/// The blob store on the storage root: uploads/{id}.pdf, results/{id}/result.*, checkpoints/{id}/{stage}.ckpt,
/// quarantine/ for checkpoints that failed validation, and tmp/ for uploads in flight. Paths are built only from validated document ids and known stage names,
/// never from anything a client named.
/// </summary>
internal sealed class BlobStore
{
    public const string TempSuffix = ".tmp";

    public BlobStore(IOptions<StorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Root = Path.GetFullPath(options.Value.Root);
        UploadsDir = Path.Combine(Root, "uploads");
        ResultsDir = Path.Combine(Root, "results");
        CheckpointsDir = Path.Combine(Root, "checkpoints");
        QuarantineDir = Path.Combine(Root, "quarantine");
        TempDir = Path.Combine(Root, "tmp");
    }

    public string Root { get; }
    public string UploadsDir { get; }
    public string ResultsDir { get; }
    public string CheckpointsDir { get; }

    /// <summary>Checkpoints that failed validation, kept for inspection: quarantine/{id}/{stage}.{time}.ckpt (+ .reason.txt).</summary>
    public string QuarantineDir { get; }
    public string TempDir { get; }
    public string CatalogPath => Path.Combine(Root, "catalog.db");

    /// <summary>
    /// A file written at start-up. A root without it is not the root the service started on: the volume was unmounted
    /// (leaving an empty mount point), removed or replaced. Then nothing may be written there (it would vanish when the
    /// volume returns) and a missing blob means "storage gone", not "file lost".
    /// </summary>
    public string MarkerPath => Path.Combine(Root, ".suite-storage");

    /// <summary>Whether the storage root the service started on is there (its marker file is).</summary>
    public bool IsPresent => File.Exists(MarkerPath);

    /// <summary>Throws <see cref="StorageUnavailableException"/> unless the storage root the service started on is there.</summary>
    public void EnsurePresent()
    {
        if (!IsPresent)
        {
            throw new StorageUnavailableException(
                $"the storage root {Root} is not there (its marker file {Path.GetFileName(MarkerPath)} is missing): is the volume mounted?");
        }
    }

    public string UploadPath(string documentId) => Path.Combine(UploadsDir, Checked(documentId) + ".pdf");

    public string ResultDir(string documentId) => Path.Combine(ResultsDir, Checked(documentId));

    public string ResultPath(string documentId, ResultFormat format) => Path.Combine(ResultDir(documentId), format.FileName);

    public string CheckpointDir(string documentId) => Path.Combine(CheckpointsDir, Checked(documentId));

    public string CheckpointPath(string documentId, string stage)
    {
        if (!PipelineStageNames.All.Contains(stage))
        {
            throw new ArgumentException($"'{stage}' is not a pipeline stage.", nameof(stage));
        }

        return Path.Combine(CheckpointDir(documentId), stage + ".ckpt");
    }

    /// <summary>
    /// Moves a bad checkpoint into the quarantine folder (same file system, so a rename) with a note saying why, and
    /// returns its new path. A file that is already gone leaves only the note.
    /// </summary>
    public string Quarantine(string documentId, string stage, string reason, DateTimeOffset at)
    {
        EnsurePresent();
        var source = CheckpointPath(documentId, stage);
        var dir = Path.Combine(QuarantineDir, Checked(documentId));
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, $"{stage}.{at.UtcDateTime:yyyyMMdd'T'HHmmssfffffff}.ckpt");
        if (File.Exists(source))
        {
            File.Move(source, target, overwrite: true);
        }

        File.WriteAllText(target + ".reason.txt", reason + Environment.NewLine);
        return target;
    }

    /// <summary>A fresh temp file for an upload in flight.</summary>
    public string NewUploadTempPath() => Path.Combine(TempDir, Guid.NewGuid().ToString("N") + ".part");

    /// <summary>A temp path beside <paramref name="finalPath"/>, so that the final rename stays on one file system (atomic).</summary>
    public static string SiblingTempPath(string finalPath)
    {
        var dir = Path.GetDirectoryName(finalPath)!;
        return Path.Combine(dir, "." + Path.GetFileName(finalPath) + "." + Guid.NewGuid().ToString("N") + TempSuffix);
    }

    /// <summary>Creates the folders and proves the root is writable; fails with a message that says what to fix.</summary>
    public void Initialize()
    {
        try
        {
            foreach (var dir in new[] { Root, UploadsDir, ResultsDir, CheckpointsDir, QuarantineDir, TempDir })
            {
                Directory.CreateDirectory(dir);
            }

            if (!File.Exists(MarkerPath))
            {
                File.WriteAllText(MarkerPath, "Storage root of IngestService. Do not delete: without this file the service treats the root as missing." + Environment.NewLine);
            }

            var probe = Path.Combine(TempDir, ".write-probe-" + Guid.NewGuid().ToString("N"));
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(1);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Storage:Root '{Root}' is not a writable folder ({ex.Message}). Point Storage:Root (Storage__Root) at a folder " +
                "this service's user can create files in.", ex);
        }
    }

    /// <summary>
    /// Removes temp files left by a crash. This service is the single writer of its storage root, so at start-up
    /// every temp file is an orphan.
    /// </summary>
    public int RemoveOrphanedTempFiles()
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(TempDir))
        {
            removed += DeleteQuietly(file) ? 1 : 0;
        }

        foreach (var dir in new[] { ResultsDir, CheckpointsDir })
        {
            foreach (var file in Directory.EnumerateFiles(dir, "*" + TempSuffix, SearchOption.AllDirectories))
            {
                removed += DeleteQuietly(file) ? 1 : 0;
            }
        }

        return removed;
    }

    /// <summary>
    /// Streams <paramref name="source"/> (a request body) to a new file at <paramref name="tempPath"/>, hashing and
    /// counting as it goes, and flushes it to disk. Stops as soon as more than <paramref name="maxBytes"/> arrived or
    /// <paramref name="inspect"/> refuses a chunk; then, and on any exception, the temp file is removed.
    /// Failures reading the body surface as <see cref="RequestBodyException"/>, failures writing the disk as IOException.
    /// </summary>
    public static async Task<BlobWrite> WriteTempAsync(
        Stream source, string tempPath, long maxBytes, Func<ReadOnlyMemory<byte>, bool>? inspect, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var kept = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = CreateTempFile(tempPath))
            {
                var (status, copied) = await CopyBodyAsync(source, file, hash, maxBytes, inspect, cancellationToken);
                if (status != BlobWriteStatus.Written)
                {
                    return status == BlobWriteStatus.TooLarge ? BlobWrite.TooLarge : BlobWrite.Refused;
                }

                size = copied;
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            kept = true;
            return new BlobWrite(BlobWriteStatus.Written, Convert.ToHexStringLower(hash.GetHashAndReset()), size);
        }
        finally
        {
            if (!kept)
            {
                DeleteQuietly(tempPath);
            }
        }
    }

    /// <summary>
    /// Copies a request body to <paramref name="destination"/>, hashing and counting as it goes. Stops as soon as more
    /// than <paramref name="maxBytes"/> arrived (the server's own body limit counts too) or <paramref name="inspect"/>
    /// refuses a chunk. Failures reading the body surface as <see cref="RequestBodyException"/>.
    /// </summary>
    public static async Task<(BlobWriteStatus Status, long Size)> CopyBodyAsync(
        Stream source, Stream destination, IncrementalHash hash, long maxBytes, Func<ReadOnlyMemory<byte>, bool>? inspect,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(hash);
        var buffer = new byte[81920];
        long size = 0;
        while (true)
        {
            int read;
            try
            {
                read = await source.ReadAsync(buffer, cancellationToken);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return (BlobWriteStatus.TooLarge, size);
            }
            catch (IOException ex)
            {
                throw new RequestBodyException(ex);
            }

            if (read == 0)
            {
                return (BlobWriteStatus.Written, size);
            }

            size += read;
            if (size > maxBytes)
            {
                return (BlobWriteStatus.TooLarge, size);
            }

            if (inspect is not null && !inspect(buffer.AsMemory(0, read)))
            {
                return (BlobWriteStatus.Refused, size);
            }

            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>Writes <paramref name="content"/> to a temp file beside <paramref name="finalPath"/> and flushes it to disk.</summary>
    public static async Task<string> WriteSiblingTempAsync(string finalPath, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        var temp = SiblingTempPath(finalPath);
        var completed = false;
        try
        {
            await using (var file = CreateTempFile(temp))
            {
                await file.WriteAsync(content, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            completed = true;
            return temp;
        }
        finally
        {
            if (!completed)
            {
                DeleteQuietly(temp);
            }
        }
    }

    public static FileStream CreateTempFile(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public static bool DeleteQuietly(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Checked(string documentId) =>
        Documents.DocumentId.IsValid(documentId)
            ? documentId
            : throw new ArgumentException($"'{documentId}' is not a document id.", nameof(documentId));
}

internal enum BlobWriteStatus
{
    Written,
    TooLarge,
    Refused,
}

/// <summary>The outcome of streaming a body to disk: when written, its SHA-256 (lowercase hex) and size.</summary>
internal sealed record BlobWrite(BlobWriteStatus Status, string Sha256, long SizeBytes)
{
    public static readonly BlobWrite TooLarge = new(BlobWriteStatus.TooLarge, "", 0);
    public static readonly BlobWrite Refused = new(BlobWriteStatus.Refused, "", 0);
}

/// <summary>The storage root is missing or is not the one the service started on; a transient condition (503).</summary>
internal sealed class StorageUnavailableException(string message) : Exception(message);

/// <summary>The client's request body could not be read to its end (truncated, malformed or aborted).</summary>
internal sealed class RequestBodyException(IOException inner) : Exception("The request body could not be read: " + inner.Message, inner);

/// <summary>
/// The renderings of a result, as the public API names them. An <see cref="Optional"/> one may be missing from a
/// document that a worker of an earlier version completed (HTML came after the other three).
/// </summary>
internal sealed record ResultFormat(string Name, string FileName, string ContentType, bool Optional = false)
{
    public static readonly ResultFormat Json = new("json", "result.json", "application/json");
    public static readonly ResultFormat Markdown = new("markdown", "result.md", "text/markdown; charset=utf-8");
    public static readonly ResultFormat Text = new("text", "result.txt", "text/plain; charset=utf-8");
    public static readonly ResultFormat Html = new("html", "result.html", "text/html; charset=utf-8", Optional: true);

    public static readonly IReadOnlyList<ResultFormat> All = [Json, Markdown, Text, Html];

    public static IReadOnlyList<string> Names { get; } = All.Select(f => f.Name).ToList();

    public static ResultFormat? Find(string? name) =>
        string.IsNullOrEmpty(name) ? Json : All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
}
