using IngestService.Api;
using IngestService.Artifacts;
using IngestService.Catalog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IngestService.Storage;

/// <summary>
/// Removes what a crash can leave on the storage root: temp files of uploads and atomic writes that never finished,
/// and blobs (upload, results, checkpoints, page images and pictures) of documents the catalog does not know (a crash between storing the file
/// and inserting its row). Runs once the catalog is open and then every <c>Storage:OrphanSweepIntervalSeconds</c>.
/// Only files older than <c>Storage:OrphanGraceSeconds</c> count, so an upload in flight is never taken; a sweep that
/// cannot read the catalog removes nothing, because it could not tell a document's files from an orphan. Each removal
/// is logged and counted (<c>ingest.storage.orphans_removed{kind}</c>).
/// </summary>
internal sealed partial class OrphanSweeper(
    BlobStore blobs,
    ArtifactStore artifacts,
    OrphanQueries queries,
    CatalogState catalogState,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<OrphanSweeper> logger) : BackgroundService
{
    private const int LookupBatch = 500;
    private readonly StorageOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.OrphanSweepIntervalSeconds), time);
        var swept = false;
        do
        {
            // The first sweep waits for the catalog; after that, one pass per tick.
            if (!swept && !catalogState.IsAvailable)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                continue;
            }

            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex);
            }

            swept = true;
        }
        while (!swept || await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One sweep; returns how many files and folders it removed.</summary>
    internal async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        if (!catalogState.IsAvailable || !Directory.Exists(blobs.Root))
        {
            return 0;
        }

        var olderThan = time.GetUtcNow() - TimeSpan.FromSeconds(_options.OrphanGraceSeconds);
        var removed = RemoveStaleTempFiles(olderThan);

        var candidates = new Dictionary<string, List<(string Path, string Kind)>>(StringComparer.Ordinal);
        Collect(candidates, EnumerateOld(blobs.UploadsDir, "*.pdf", olderThan, folders: false), "upload", Path.GetFileNameWithoutExtension);
        Collect(candidates, EnumerateOld(blobs.ResultsDir, "*", olderThan, folders: true), "results", Path.GetFileName);
        Collect(candidates, EnumerateOld(blobs.CheckpointsDir, "*", olderThan, folders: true), "checkpoints", Path.GetFileName);
        Collect(candidates, EnumerateOld(artifacts.Root, "*", olderThan, folders: true), "artifacts", Path.GetFileName);

        foreach (var batch in candidates.Keys.Chunk(LookupBatch))
        {
            foreach (var id in await queries.UnknownDocumentIdsAsync(batch, cancellationToken))
            {
                foreach (var (path, kind) in candidates[id])
                {
                    removed += Remove(path, kind, "no catalog row for document " + id) ? 1 : 0;
                }
            }
        }

        return removed;
    }

    private int RemoveStaleTempFiles(DateTimeOffset olderThan)
    {
        var removed = 0;
        foreach (var file in EnumerateOld(blobs.TempDir, "*", olderThan, folders: false))
        {
            removed += Remove(file, "temp", "an upload that never finished") ? 1 : 0;
        }

        foreach (var dir in new[] { blobs.UploadsDir, blobs.ResultsDir, blobs.CheckpointsDir, artifacts.Root })
        {
            foreach (var file in EnumerateOld(dir, "*" + BlobStore.TempSuffix, olderThan, folders: false, recursive: true))
            {
                removed += Remove(file, "temp", "a write that never finished") ? 1 : 0;
            }
        }

        return removed;
    }

    private static void Collect(
        Dictionary<string, List<(string, string)>> candidates, IEnumerable<string> paths, string kind, Func<string, string> idOf)
    {
        foreach (var path in paths)
        {
            var id = idOf(path);
            // Only names the store itself makes; anything else on the root is not ours to judge.
            if (!Documents.DocumentId.IsValid(id))
            {
                continue;
            }

            if (!candidates.TryGetValue(id, out var list))
            {
                candidates[id] = list = [];
            }

            list.Add((path, kind));
        }
    }

    private static IEnumerable<string> EnumerateOld(string dir, string pattern, DateTimeOffset olderThan, bool folders, bool recursive = false)
    {
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var option = recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly;
        var entries = folders ? Directory.EnumerateDirectories(dir, pattern, option) : Directory.EnumerateFiles(dir, pattern, option);
        return entries.Where(p => LastWrite(p, folders) < olderThan);
    }

    private static DateTimeOffset LastWrite(string path, bool folder)
    {
        var at = folder ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
        return new DateTimeOffset(at, TimeSpan.Zero);
    }

    private bool Remove(string path, string kind, string why)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
            else
            {
                return false;
            }

            IngestTelemetry.OrphansRemoved.Add(1, new KeyValuePair<string, object?>("kind", kind));
            LogRemoved(kind, path, why);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogRemoveFailed(path, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed orphaned {Kind} {Path}: {Why}")]
    private partial void LogRemoved(string kind, string path, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove orphaned {Path}: {Error}")]
    private partial void LogRemoveFailed(string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan sweep failed; the next one retries")]
    private partial void LogSweepFailed(Exception exception);
}
