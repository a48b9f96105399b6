using Microsoft.Data.Sqlite;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Events;

/// <summary>
/// Appends progress events inside the transaction that makes the change, so a document's events and its state never
/// disagree: the sequence number is the document's <c>event_seq</c> + 1 under the write lock (contiguous, from 1).
/// History kinds map to public types here (<see cref="ForHistoryAsync"/>); internal kinds (checkpoints, stale leases,
/// refused claims, quarantines) have none.
/// </summary>
internal static class ProgressEventWriter
{
    /// <summary>Longest <c>detail</c> of an event (a longer reason is clipped).</summary>
    public const int MaxDetail = 1000;

    /// <summary>The public event of a history entry, if it has one; <c>status</c> is the document's status after the change.</summary>
    public static Task ForHistoryAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, string at, string kind, string? detail, CancellationToken ct)
    {
        var (type, text) = kind switch
        {
            DocumentEventKinds.Accepted => (ProgressEventTypes.Accepted, detail),
            DocumentEventKinds.ScanHeld => (ProgressEventTypes.AwaitingScan, detail),
            DocumentEventKinds.Scanned => (ProgressEventTypes.Scanned, detail),
            DocumentEventKinds.Enqueued => (ProgressEventTypes.Queued, "waiting for a worker"),
            DocumentEventKinds.Requeued => (ProgressEventTypes.Queued, "queued again: the job was missing from the queue"),
            DocumentEventKinds.Claimed => (ProgressEventTypes.Claimed, detail),
            DocumentEventKinds.Released => (ProgressEventTypes.Retried, detail),
            DocumentEventKinds.Retried => (ProgressEventTypes.Retried, detail),
            DocumentEventKinds.Completed => (ProgressEventTypes.Completed, null),
            DocumentEventKinds.Failed => (ProgressEventTypes.Failed, detail),
            DocumentEventKinds.Cancelled => (ProgressEventTypes.Cancelled, detail),
            DocumentEventKinds.Rejected => (ProgressEventTypes.Rejected, detail),
            _ => ((string?)null, (string?)null),
        };

        return type is null
            ? Task.CompletedTask
            : AppendAsync(connection, transaction, id, at, type, stage: null, status: null, text, page: null, pages: null, ct);
    }

    /// <summary>
    /// The event of a stage report: started, completed, degraded, skipped or failed; nothing for pending (a reset) or
    /// for a report repeating the stage's current status (a retried request).
    /// </summary>
    public static Task ForStageAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, string at, string stage, string? previous, string status, string? detail, CancellationToken ct)
    {
        var type = status switch
        {
            StageStatus.Running => ProgressEventTypes.StageStarted,
            StageStatus.Completed => ProgressEventTypes.StageCompleted,
            StageStatus.Degraded => ProgressEventTypes.StageDegraded,
            StageStatus.Skipped => ProgressEventTypes.StageSkipped,
            StageStatus.Failed => ProgressEventTypes.StageFailed,
            _ => null,
        };

        return type is null || string.Equals(previous, status, StringComparison.Ordinal)
            ? Task.CompletedTask
            : AppendAsync(connection, transaction, id, at, type, stage, status, detail, page: null, pages: null, ct);
    }

    /// <summary>
    /// Appends one event: the next sequence number, the document's client, and (when <paramref name="status"/> is null)
    /// its status after the change. Nothing when the document does not exist.
    /// </summary>
    public static async Task AppendAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, string at, string type,
        string? stage, string? status, string? detail, int? page, int? pages, CancellationToken ct)
    {
        long seq;
        string? client;
        await using (var next = Command(connection, transaction, EventSql.NextSeq))
        {
            next.Parameters.AddWithValue("@id", id);
            await using var reader = await next.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return;
            }

            seq = reader.GetInt64(0);
            client = reader.IsDBNull(1) ? null : reader.GetString(1);
            status ??= reader.GetString(2);
        }

        await InsertAsync(connection, transaction, id, seq, client, at, type, stage, status, detail, page, pages, ct);
    }

    public static async Task InsertAsync(
        SqliteConnection connection, SqliteTransaction transaction, string id, long seq, string? client, string at, string type,
        string? stage, string? status, string? detail, int? page, int? pages, CancellationToken ct)
    {
        await using var insert = Command(connection, transaction, EventSql.Insert);
        insert.Parameters.AddWithValue("@id", id);
        insert.Parameters.AddWithValue("@seq", seq);
        insert.Parameters.AddWithValue("@client", (object?)client ?? DBNull.Value);
        insert.Parameters.AddWithValue("@at", at);
        insert.Parameters.AddWithValue("@type", type);
        insert.Parameters.AddWithValue("@stage", (object?)stage ?? DBNull.Value);
        insert.Parameters.AddWithValue("@status", (object?)status ?? DBNull.Value);
        insert.Parameters.AddWithValue("@detail", (object?)(detail is null ? null : Clip(detail, MaxDetail)) ?? DBNull.Value);
        insert.Parameters.AddWithValue("@page", (object?)page ?? DBNull.Value);
        insert.Parameters.AddWithValue("@pages", (object?)pages ?? DBNull.Value);
        await insert.ExecuteNonQueryAsync(ct);
    }
}
