namespace Suite.PipelineWorker.Jobs;

/// <summary>The worker's log messages (source-generated: no boxing, no parsing at run time).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Job consumer {Consumer} reading streams {Streams} as group {Group}")]
    public static partial void ConsumerStarting(ILogger logger, string consumer, string streams, string group);

    [LoggerMessage(2, LogLevel.Information, "Job consumer {Consumer} stopped; unfinished jobs stay pending for reclaim")]
    public static partial void ConsumerStopped(ILogger logger, string consumer);

    [LoggerMessage(3, LogLevel.Warning, "Consumer group {Group} on {Streams} is missing (Redis restarted without data?); recreating it")]
    public static partial void GroupMissing(ILogger logger, string streams, string group);

    [LoggerMessage(4, LogLevel.Warning, "Redis unavailable ({ErrorType}: {Error}); backing off")]
    public static partial void RedisUnavailable(ILogger logger, string errorType, string error);

    [LoggerMessage(5, LogLevel.Information, "Resuming {Count} job(s) left pending for this consumer")]
    public static partial void ResumingOwnPending(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Information, "Reclaimed job entry {EntryId} idle past the visibility timeout")]
    public static partial void Reclaimed(ILogger logger, string entryId);

    [LoggerMessage(7, LogLevel.Error, "Pending job entry {EntryId} was deleted from the stream: the job is lost to the queue (the catalog sweeper must re-enqueue it)")]
    public static partial void EntryLost(ILogger logger, string entryId);

    [LoggerMessage(8, LogLevel.Warning, "Job entry {EntryId} has no document id; acknowledging it")]
    public static partial void MalformedEntry(ILogger logger, string entryId);

    [LoggerMessage(9, LogLevel.Warning, "Job for document {DocumentId}: IngestService does not know it; acknowledging the job")]
    public static partial void UnknownDocument(ILogger logger, string documentId);

    [LoggerMessage(10, LogLevel.Information, "Document {DocumentId} is already {Status}; acknowledging the job")]
    public static partial void AlreadyTerminal(ILogger logger, string documentId, string status);

    [LoggerMessage(11, LogLevel.Warning, "Document {DocumentId}: lease lost ({Reason}); abandoning the job without acknowledging it")]
    public static partial void LeaseLost(ILogger logger, string documentId, string reason);

    [LoggerMessage(12, LogLevel.Information, "Document {DocumentId}: stopping in stage {Stage}, the job stays pending for another worker")]
    public static partial void Abandoned(ILogger logger, string documentId, string stage);

    [LoggerMessage(13, LogLevel.Warning, "Document {DocumentId}: {Reason}; the job is put back for {DelaySeconds:0.#} s without counting an attempt")]
    public static partial void Transient(ILogger logger, string documentId, string reason, double delaySeconds);

    [LoggerMessage(14, LogLevel.Error, "Document {DocumentId}: unexpected error")]
    public static partial void Unexpected(ILogger logger, Exception exception, string documentId);

    [LoggerMessage(15, LogLevel.Information, "Document {DocumentId}: stage {Stage} skipped, resumed from its checkpoint")]
    public static partial void StageResumed(ILogger logger, string documentId, string stage);

    [LoggerMessage(16, LogLevel.Information, "Document {DocumentId}: stage {Stage} {Status}")]
    public static partial void StageDone(ILogger logger, string documentId, string stage, string status);

    [LoggerMessage(17, LogLevel.Information, "Document {DocumentId} completed (lease {Lease})")]
    public static partial void Completed(ILogger logger, string documentId, long lease);

    [LoggerMessage(18, LogLevel.Warning, "Document {DocumentId} failed permanently: {Code} ({ErrorKind}): {Reason}")]
    public static partial void Failed(ILogger logger, string documentId, string code, string errorKind, string reason);

    [LoggerMessage(19, LogLevel.Information, "Removed {Count} work folder(s) left by worker processes that are gone")]
    public static partial void OrphansRemoved(ILogger logger, int count);

    [LoggerMessage(20, LogLevel.Warning, "Job entry with an invalid document id '{DocumentId}'; acknowledging it")]
    public static partial void InvalidDocumentId(ILogger logger, string documentId);

    [LoggerMessage(21, LogLevel.Error, "Job consumer loop error; backing off")]
    public static partial void LoopError(ILogger logger, Exception exception);

    [LoggerMessage(22, LogLevel.Debug, "Wake channel subscription failed ({Error}); polling only")]
    public static partial void WakeUnavailable(ILogger logger, string error);

    [LoggerMessage(23, LogLevel.Information, "Document {DocumentId} was cancelled while in stage {Stage}; stopped and acknowledging the job")]
    public static partial void StoppedFinished(ILogger logger, string documentId, string stage);

    [LoggerMessage(24, LogLevel.Information, "Document {DocumentId}: duplicate delivery ({Reason}); put back for {DelaySeconds:0.#} s")]
    public static partial void Duplicate(ILogger logger, string documentId, string reason, double delaySeconds);

    [LoggerMessage(25, LogLevel.Warning, "Document {DocumentId}: delivery {Delivery} of {MaxDeliveries} failed transiently ({ErrorKind}: {Reason}); retrying in {DelaySeconds:0.#} s")]
    public static partial void Retrying(ILogger logger, string documentId, long delivery, int maxDeliveries, string errorKind, string reason, double delaySeconds);

    [LoggerMessage(26, LogLevel.Warning, "Document {DocumentId}: could not release the lease ({Error}); it expires by itself")]
    public static partial void ReleaseFailed(ILogger logger, string documentId, string error);

    [LoggerMessage(27, LogLevel.Error, "Document {DocumentId} dead-lettered: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string documentId, string reason);

    [LoggerMessage(28, LogLevel.Warning, "Document {DocumentId}: the outcome could not be reported ({ErrorType}: {Error}); the job stays pending and is delivered again")]
    public static partial void ReportFailed(ILogger logger, string documentId, string errorType, string error);

    [LoggerMessage(29, LogLevel.Information, "Moved {Count} due retr(ies) back into the jobs stream")]
    public static partial void Promoted(ILogger logger, long count);

    [LoggerMessage(30, LogLevel.Warning, "Job entry {EntryId} is pending for another consumer now; leaving it to that one")]
    public static partial void NotOurs(ILogger logger, string entryId);

    [LoggerMessage(31, LogLevel.Information, "Took batch job entry {EntryId} before interactive ones: it waited more than {MaxWaitSeconds} s")]
    public static partial void TakenAged(ILogger logger, string entryId, int maxWaitSeconds);

    [LoggerMessage(32, LogLevel.Debug, "Page progress of stage {Stage} of document {DocumentId} not reported (best effort): {Error}")]
    public static partial void ProgressNotReported(ILogger logger, string documentId, string stage, string error);
}
