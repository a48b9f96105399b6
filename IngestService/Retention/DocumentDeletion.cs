using IngestService.Artifacts;
using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Extensions.Options;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Retention;

/// <summary>What asking to delete a document did.</summary>
internal enum DeletionOutcome
{
    NotFound,

    /// <summary>The tombstone is written and the files are removed.</summary>
    Deleted,

    /// <summary>Unfinished: nothing removed (the caller cancels it first).</summary>
    NotFinished,

    /// <summary>No longer expired when looked at under the lock (a retry came first): left alone.</summary>
    NotExpired,
}

/// <summary>
/// Removes a finished document, crash-safe (Req OUT-2): first, in one transaction, the tombstone (state deleting) is
/// written and the document row deleted (its stages, checkpoint rows, history and progress events go with it by
/// cascade); from that commit on every API call answers 410 and every worker write is refused (no row, no lease).
/// Then the files go: the upload, checkpoints, quarantined checkpoints, results, page images and pictures. Last, the
/// tombstone is marked deleted with the bytes reclaimed. A crash between leaves a deleting tombstone, which
/// <see cref="RetentionSweeper"/> finishes at start-up and on each pass; removing files is idempotent.
/// </summary>
internal sealed partial class DocumentDeletion(
    CatalogDb db,
    BlobStore blobs,
    ArtifactStore artifacts,
    RetentionTestHook testHook,
    TimeProvider time,
    ILogger<DocumentDeletion> logger)
{
    /// <summary>
    /// Deletes a document now. With <paramref name="onlyIfExpired"/> (the sweeper) it must still be past its expiry
    /// under the write lock; otherwise (DELETE) it must be finished.
    /// </summary>
    public async Task<DeletionOutcome> DeleteAsync(string id, string reason, bool onlyIfExpired, CancellationToken cancellationToken)
    {
        var outcome = await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var document = await CatalogRows.FindDocumentAsync(connection, transaction, id, ct);
            if (document is null)
            {
                return DeletionOutcome.NotFound;
            }

            var now = time.GetUtcNow();
            if (onlyIfExpired ? document.ExpiresAt is not { } at || at > now : !DocumentStatus.IsTerminal(document.Status))
            {
                return onlyIfExpired ? DeletionOutcome.NotExpired : DeletionOutcome.NotFinished;
            }

            await ExecuteAsync(connection, transaction, RetentionSql.InsertTombstone,
            [
                ("@id", id),
                ("@file_name", document.FileName),
                ("@reason", reason),
                ("@status", document.Status),
                ("@now", CatalogTime.ToText(now)),
            ], ct);
            await ExecuteAsync(connection, transaction, RetentionSql.DeleteDocument, [("@id", id)], ct);
            await ExecuteAsync(connection, transaction, RetentionSql.DeleteFinishedDeliveries, [("@id", id)], ct);
            return DeletionOutcome.Deleted;
        }, cancellationToken);

        if (outcome != DeletionOutcome.Deleted)
        {
            return outcome;
        }

        LogTombstoned(id, reason);
        await testHook.PauseAfterTombstoneAsync(id, cancellationToken);
        await FinishAsync(id, reason, CancellationToken.None);
        return outcome;
    }

    /// <summary>Removes what is left of a tombstoned document's files and marks the tombstone deleted; safe to repeat.</summary>
    public async Task FinishAsync(string id, string reason, CancellationToken cancellationToken)
    {
        var bytes = 0L;
        var files = 0;
        var failed = false;
        foreach (var path in PathsOf(id))
        {
            var (removedFiles, removedBytes, ok) = Remove(path);
            files += removedFiles;
            bytes += removedBytes;
            failed |= !ok;
        }

        // Only a complete removal ends the tombstone's 'deleting'; otherwise the next pass tries again.
        var finished = await db.WriteAsync((connection, transaction, ct) =>
            ExecuteAsync(connection, transaction, failed ? RetentionSql.AddReclaimed : RetentionSql.FinishTombstone,
                [("@id", id), ("@bytes", bytes), ("@now", CatalogTime.Now(time))], ct),
            cancellationToken);
        if (failed)
        {
            finished = 0;
        }

        RetentionMetrics.BytesReclaimed.Add(bytes);
        if (finished > 0)
        {
            RetentionMetrics.DocumentsRemoved.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }

        LogRemoved(id, reason, files, bytes);
    }

    /// <summary>Every place a document has files, by the stores' own path rules.</summary>
    private IEnumerable<string> PathsOf(string id) =>
    [
        blobs.UploadPath(id),
        blobs.CheckpointDir(id),
        Path.Combine(blobs.QuarantineDir, id),
        blobs.ResultDir(id),
        artifacts.DocumentDir(id),
    ];

    private (int Files, long Bytes, bool Ok) Remove(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                var size = new FileInfo(path).Length;
                File.Delete(path);
                return (1, size, true);
            }

            if (!Directory.Exists(path))
            {
                return (0, 0, true);
            }

            // File by file, so that the bytes counted are the bytes actually removed even if a later file fails.
            var files = 0;
            var bytes = 0L;
            foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                var size = file.Length;
                file.Delete();
                files++;
                bytes += size;
            }

            Directory.Delete(path, recursive: true);
            return (files, bytes, true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The tombstone stays 'deleting' and the next pass tries again.
            LogRemoveFailed(path, ex.Message);
            return (0, 0, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} tombstoned ({Reason}); removing its files")]
    private partial void LogTombstoned(string documentId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} removed ({Reason}): {Files} files, {BytesReclaimed} bytes reclaimed")]
    private partial void LogRemoved(string documentId, string reason, int files, long bytesReclaimed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove {Path}: {Error}")]
    private partial void LogRemoveFailed(string path, string error);
}
