using IngestService.Catalog;
using Microsoft.Data.Sqlite;

namespace IngestService.Queue;

/// <summary>
/// Adds a document's job to the stream of its priority and records it in the catalog (upload, retry, sweeper). The catalog row is
/// written first by the caller and is the source of truth: when the XADD fails the document simply stays
/// "never enqueued" and the sweeper adds it later, so the two can never diverge for good (Req JOB-7).
/// </summary>
internal sealed partial class JobEnqueuer(JobQueue queue, QueueBookkeeping bookkeeping, ILogger<JobEnqueuer> logger)
{
    /// <summary>
    /// Returns the stream entry id, or null when the job is left to the sweeper. <paramref name="traceParent"/> is the
    /// trace context to continue when there is no current activity (the sweeper's: the upload's, from the catalog).
    /// </summary>
    public async Task<string?> EnqueueAsync(string documentId, string priority, string origin, string? traceParent = null)
    {
        // Not cancellable: once the row is durable the job must follow, whatever the client does meanwhile.
        var entryId = await queue.TryEnqueueAsync(documentId, priority, origin, CancellationToken.None, traceParent);
        if (entryId is null)
        {
            return null;
        }

        try
        {
            await bookkeeping.MarkEnqueuedAsync(documentId, entryId, origin, CancellationToken.None);
        }
        catch (Exception ex) when (ex is SqliteException or CatalogUnavailableException)
        {
            // The job is in the stream; at worst the sweeper adds a duplicate, which the lease makes harmless.
            LogMarkFailed(documentId, ex.Message);
        }

        return entryId;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} was enqueued but recording it failed: {Error}")]
    private partial void LogMarkFailed(string documentId, string error);
}
