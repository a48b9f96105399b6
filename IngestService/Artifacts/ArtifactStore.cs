using System.Globalization;
using System.Text.RegularExpressions;
using IngestService.Documents;
using IngestService.Storage;
using Suite.ServiceDefaults.Lifecycle;

namespace IngestService.Artifacts;

/// <summary>What an artifact is: a rendered page (PNG) or an extracted picture (PNG or JPEG).</summary>
internal sealed record ArtifactKind(string Name, IReadOnlyList<string> ContentTypes)
{
    public static readonly ArtifactKind PageImage = new("page image", ["image/png"]);
    public static readonly ArtifactKind Picture = new("picture", ["image/png", "image/jpeg"]);

    public static string Extension(string contentType) => contentType == "image/jpeg" ? ".jpg" : ".png";

    /// <summary>The content type whose signature starts <paramref name="head"/>, if it is one this kind accepts.</summary>
    public string? Sniff(ReadOnlySpan<byte> head)
    {
        var type = head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
            : head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
            : null;
        return type is not null && ContentTypes.Contains(type) ? type : null;
    }
}

/// <summary>
/// Stage artifacts on the storage root: <c>artifacts/{id}/pages/{n}.png</c> and
/// <c>artifacts/{id}/pictures/{pictureId}.png|.jpg</c>. Paths are built from a validated document id, a page number
/// and a picture id of a fixed pattern, never from anything else a client sent.
/// </summary>
internal sealed partial class ArtifactStore(BlobStore blobs)
{
    public string Root { get; } = Path.Combine(blobs.Root, "artifacts");

    /// <summary>See <see cref="BlobStore.EnsurePresent"/>: nothing is written to, or reported missing from, a root that is gone.</summary>
    public void EnsureStoragePresent() => blobs.EnsurePresent();

    public static bool IsPictureId(string? value) => value is not null && PictureIdPattern().IsMatch(value);

    public static bool IsPageNumber(int page) => page is >= 1 and <= 1_000_000;

    public string PagePath(string documentId, int page) =>
        Path.Combine(DocumentDir(documentId), "pages", page.ToString(CultureInfo.InvariantCulture) + ".png");

    /// <summary>The picture file for a content type (PNG or JPEG).</summary>
    public string PicturePath(string documentId, string pictureId, string contentType) =>
        Path.Combine(DocumentDir(documentId), "pictures", CheckedPicture(pictureId) + ArtifactKind.Extension(contentType));

    /// <summary>The stored picture file, whichever format it was stored in; null when there is none.</summary>
    public (string Path, string ContentType)? FindPicture(string documentId, string pictureId)
    {
        foreach (var type in ArtifactKind.Picture.ContentTypes)
        {
            var path = PicturePath(documentId, pictureId, type);
            if (File.Exists(path))
            {
                return (path, type);
            }
        }

        return null;
    }

    /// <summary>Removes temp files left by a crash in the middle of a store (this service is the single writer).</summary>
    public int RemoveOrphanedTempFiles()
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*.tmp", SearchOption.AllDirectories))
        {
            removed += BlobStore.DeleteQuietly(file) ? 1 : 0;
        }

        return removed;
    }

    /// <summary>Every artifact of one document lives under this folder (removed whole when the document is deleted).</summary>
    public string DocumentDir(string documentId) =>
        DocumentId.IsValid(documentId)
            ? Path.Combine(Root, documentId)
            : throw new ArgumentException($"'{documentId}' is not a document id.", nameof(documentId));

    private static string CheckedPicture(string pictureId) =>
        IsPictureId(pictureId) ? pictureId : throw new ArgumentException($"'{pictureId}' is not a picture id.", nameof(pictureId));

    /// <summary>Picture ids as the worker makes them: p{page}-pic{n}.</summary>
    [GeneratedRegex("^p[0-9]{1,7}-pic[0-9]{1,6}$", RegexOptions.CultureInvariant)]
    private static partial Regex PictureIdPattern();
}

/// <summary>Start-up step, after the storage step: sweeps orphaned artifact temp files (a crash's leftovers).</summary>
internal sealed partial class ArtifactStoreInitializer(ArtifactStore store, ILogger<ArtifactStoreInitializer> logger) : IStartupStep
{
    public string Name => "sweeping artifact temp files";

    public Task RunAsync(CancellationToken cancellationToken)
    {
        var removed = store.RemoveOrphanedTempFiles();
        if (removed > 0)
        {
            LogRemoved(removed);
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Removed} orphaned artifact temp files")]
    private partial void LogRemoved(int removed);
}
