namespace IngestService.Scanning;

/// <summary>The malware scan's queries (all parameterized, Req IN-8; each EXPLAINed by the index test, DB-5).</summary>
internal static class ScanSql
{
    /// <summary>Documents awaiting their scan, oldest first (index ix_documents_status_created).</summary>
    public const string SelectHeld = "SELECT id FROM documents WHERE status = @status ORDER BY created_at LIMIT @limit;";

    public const string CountHeld = "SELECT COUNT(*) FROM documents WHERE status = @status;";

    public const string SelectScanState = "SELECT status, scan_result FROM documents WHERE id = @id;";

    /// <summary>Clean (or not scanned, scanning being off): awaiting_scan → queued, ready to be enqueued.</summary>
    public const string MarkScanned =
        "UPDATE documents SET status = @queued, scan_result = @result, scanned_at = @now, last_error = NULL, updated_at = @now, active_at = @now " +
        "WHERE id = @id AND status = @awaiting;";

    /// <summary>Infected: awaiting_scan → rejected (terminal), with the signature as the error.</summary>
    public const string Reject =
        "UPDATE documents SET status = @rejected, scan_result = @result, scanned_at = @now, error_code = @code, error_message = @message, " +
        "last_error = NULL, updated_at = @now, active_at = @now WHERE id = @id AND status = @awaiting;";

    /// <summary>No verdict: the reason is kept as last_error (written only when it changed, so polls do not churn).</summary>
    public const string NoteHeld =
        "UPDATE documents SET last_error = @reason, updated_at = @now WHERE id = @id AND status = @awaiting AND (last_error IS NULL OR last_error <> @reason);";
}
