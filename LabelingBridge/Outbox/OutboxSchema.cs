namespace LabelingBridge.Outbox;

/// <summary>
/// Schema versions of the outbox, applied in order at start-up by the shared migration runner
/// (<see cref="Suite.ServiceDefaults.Data.SqliteSchema"/>; <c>PRAGMA user_version</c> records how many ran). Append, never edit.
/// </summary>
internal static class OutboxSchema
{
    public static readonly IReadOnlyList<string> Steps =
    [
        """
        CREATE TABLE exports (
            id TEXT PRIMARY KEY,
            document_id TEXT NOT NULL,
            state TEXT NOT NULL,
            trigger TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            last_error_code TEXT,
            last_error_message TEXT,
            last_error_at TEXT,
            delivered_at TEXT,
            project_id INTEGER,
            tasks_created INTEGER,
            tasks_existing INTEGER
        );
        CREATE INDEX ix_exports_due ON exports (state, next_attempt_at);
        CREATE INDEX ix_exports_document ON exports (document_id, created_at);
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE annotations (
            annotation_id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL,
            project_id INTEGER,
            document_id TEXT NOT NULL,
            page_no INTEGER NOT NULL,
            result_json TEXT NOT NULL,
            completed_by TEXT,
            was_cancelled INTEGER NOT NULL,
            ls_created_at TEXT,
            ls_updated_at TEXT,
            source TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX ix_annotations_document ON annotations (document_id, page_no, annotation_id);
        CREATE INDEX ix_annotations_task ON annotations (task_id);
        CREATE TABLE auto_export_seen (
            document_id TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
        );
        """,
        """
        CREATE TABLE document_pages (
            document_id TEXT NOT NULL,
            page_no INTEGER NOT NULL,
            width_pt REAL NOT NULL,
            height_pt REAL NOT NULL,
            PRIMARY KEY (document_id, page_no)
        );
        """,
        """
        ALTER TABLE exports ADD COLUMN trace_parent TEXT;
        """,
    ];

    public static int Version => Steps.Count;
}
