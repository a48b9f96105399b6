namespace IngestService.Events;

/// <summary>The progress events' queries (migration 8), all parameterized; the index test EXPLAINs each of them.</summary>
internal static class EventSql
{
    public const string EventColumns = "position, document_id, seq, at, type, stage, status, detail, page, pages";

    /// <summary>The document's next sequence number (in the writing transaction), its client and its status after the change.</summary>
    public const string NextSeq =
        "UPDATE documents SET event_seq = event_seq + 1 WHERE id = @id RETURNING event_seq, client, status;";

    /// <summary>
    /// The next sequence number for a page_progress event, only while the document has fewer than @max of them and the
    /// last one is older than @before (page == pages passes with @before = @now); no row when it is not to be recorded.
    /// </summary>
    public const string NextProgressSeq =
        "UPDATE documents SET event_seq = event_seq + 1, progress_events = progress_events + 1, progress_at = @now " +
        "WHERE id = @id AND progress_events < @max AND (progress_at IS NULL OR progress_at <= @before) RETURNING event_seq, client;";

    public const string Insert =
        "INSERT INTO progress_events (document_id, seq, client, at, type, stage, status, detail, page, pages) " +
        "VALUES (@id, @seq, @client, @at, @type, @stage, @status, @detail, @page, @pages);";

    /// <summary>Where a document's stream stands: its status and the last sequence number given.</summary>
    public const string SelectHead = "SELECT status, event_seq FROM documents WHERE id = @id;";

    public const string SelectDocumentAfter =
        "SELECT " + EventColumns + " FROM progress_events WHERE document_id = @id AND seq > @after ORDER BY seq LIMIT @limit;";

    public const string SelectClientAfter =
        "SELECT " + EventColumns + " FROM progress_events WHERE client = @client AND position > @after ORDER BY position LIMIT @limit;";

    /// <summary>The last position of one client's events (where its feed goes live).</summary>
    public const string SelectClientHead = "SELECT MAX(position) FROM progress_events WHERE client = @client;";

    /// <summary>What changed since the pump's last look: which documents and clients to wake.</summary>
    public const string SelectChangesAfter =
        "SELECT position, document_id, client FROM progress_events WHERE position > @after ORDER BY position LIMIT @limit;";

    public const string SelectLastPosition = "SELECT COALESCE(MAX(position), 0) FROM progress_events WHERE position >= 0;";

    /// <summary>Whether a stage is running (page progress is recorded only then).</summary>
    public const string SelectStageStatus = "SELECT status FROM document_stages WHERE document_id = @id AND name = @name;";
}
