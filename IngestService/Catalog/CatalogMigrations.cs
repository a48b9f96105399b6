namespace IngestService.Catalog;

/// <summary>
/// The catalog schema as ordered migrations; <c>PRAGMA user_version</c> records how many have been applied.
/// Append new migrations; never edit an applied one.
/// </summary>
internal static class CatalogMigrations
{
    public static readonly IReadOnlyList<string> All =
    [
        // 1: documents, their stages and checkpoints.
        """
        CREATE TABLE documents (
            id             TEXT PRIMARY KEY NOT NULL,
            file_name      TEXT NOT NULL,
            sha256         TEXT NOT NULL,
            size_bytes     INTEGER NOT NULL,
            status         TEXT NOT NULL,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL,
            error_code     TEXT NULL,
            error_message  TEXT NULL,
            lease_token    INTEGER NOT NULL DEFAULT 0,
            lease_owner    TEXT NULL,
            enqueued_at    TEXT NULL,
            job_entry_id   TEXT NULL,
            result_sha256  TEXT NULL
        );
        -- Newest-first keyset pagination on (created_at, id).
        CREATE INDEX ix_documents_created ON documents (created_at, id);
        -- The sweeper (queued and never enqueued) and queue-depth queries.
        CREATE INDEX ix_documents_status ON documents (status, enqueued_at, created_at);

        CREATE TABLE document_stages (
            document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            name         TEXT NOT NULL,
            status       TEXT NOT NULL,
            started_at   TEXT NULL,
            finished_at  TEXT NULL,
            detail       TEXT NULL,
            PRIMARY KEY (document_id, name)
        ) WITHOUT ROWID;

        CREATE TABLE checkpoints (
            document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            stage        TEXT NOT NULL,
            sha256       TEXT NOT NULL,
            size_bytes   INTEGER NOT NULL,
            created_at   TEXT NOT NULL,
            lease_token  INTEGER NOT NULL,
            PRIMARY KEY (document_id, stage)
        ) WITHOUT ROWID;
        """,

        // 2: delivery: expiring leases, last sign of life (the sweeper's re-queue check), the last transient error,
        // manual retries, checkpoint schema versions, and each document's history (claims, checkpoints, outcome).
        """
        ALTER TABLE documents ADD COLUMN lease_seconds INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE documents ADD COLUMN lease_expires_at TEXT NULL;
        ALTER TABLE documents ADD COLUMN active_at TEXT NULL;
        ALTER TABLE documents ADD COLUMN last_error TEXT NULL;
        ALTER TABLE documents ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
        UPDATE documents SET active_at = updated_at;
        -- The sweeper's check for jobs Redis may have lost: unfinished documents without a sign of life.
        CREATE INDEX ix_documents_active ON documents (status, active_at);

        ALTER TABLE checkpoints ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 0;

        CREATE TABLE document_events (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            at           TEXT NOT NULL,
            kind         TEXT NOT NULL,
            stage        TEXT NULL,
            lease_token  INTEGER NULL,
            worker       TEXT NULL,
            detail       TEXT NULL
        );
        CREATE INDEX ix_document_events_document ON document_events (document_id, seq);
        """,

        // 3: the whole-document budget spans attempts: processing time of the attempts that ended, and when the
        // current one began (an attempt that died silently counts until its last sign of life).
        """
        ALTER TABLE documents ADD COLUMN processing_ms INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE documents ADD COLUMN attempt_started_at TEXT NULL;
        """,

        // 4: the W3C trace context of the upload, so a job the sweeper adds again continues the upload's trace.
        """
        ALTER TABLE documents ADD COLUMN trace_parent TEXT NULL;
        """,

        // 5: the upload's job priority (Req LS-2); every job of the document goes to that priority's stream.
        """
        ALTER TABLE documents ADD COLUMN priority TEXT NOT NULL DEFAULT 'interactive';
        """,

        // 6: idempotent uploads (a client's Idempotency-Key names the document its first upload created; reserved
        // before the document row exists, so no foreign key) and duplicate content found by its hash.
        """
        CREATE TABLE upload_keys (
            client       TEXT NOT NULL,
            key          TEXT NOT NULL,
            document_id  TEXT NOT NULL,
            sha256       TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            PRIMARY KEY (client, key)
        ) WITHOUT ROWID;
        CREATE INDEX ix_upload_keys_created ON upload_keys (created_at);
        CREATE INDEX ix_documents_sha256 ON documents (sha256, created_at);
        """,

        // 7: the malware scan: its verdict (clean, infected, not_scanned when scanning is switched off; NULL while
        // none was given) and when; documents awaiting their scan are found oldest first by status.
        """
        ALTER TABLE documents ADD COLUMN scan_result TEXT NULL;
        ALTER TABLE documents ADD COLUMN scanned_at TEXT NULL;
        CREATE INDEX ix_documents_status_created ON documents (status, created_at);
        """,

        // 8: progress events for clients (Req WS-1, WS-6): every state change of a document with a per-document sequence
        // number (documents.event_seq is the last one given), kept with the document and replayed from here to every
        // stream; the uploading client (the gateway's X-Suite-Client) for the per-client feed, whose resume position is
        // the global position. page_progress events are counted (progress_events) and timed (progress_at) to bound them.
        // Documents from before keep their history: its public kinds are copied in order.
        """
        ALTER TABLE documents ADD COLUMN client TEXT NULL;
        ALTER TABLE documents ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE documents ADD COLUMN progress_events INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE documents ADD COLUMN progress_at TEXT NULL;

        CREATE TABLE progress_events (
            position     INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            seq          INTEGER NOT NULL,
            client       TEXT NULL,
            at           TEXT NOT NULL,
            type         TEXT NOT NULL,
            stage        TEXT NULL,
            status       TEXT NULL,
            detail       TEXT NULL,
            page         INTEGER NULL,
            pages        INTEGER NULL
        );
        CREATE UNIQUE INDEX ix_progress_events_document ON progress_events (document_id, seq);
        CREATE INDEX ix_progress_events_client ON progress_events (client, position);

        INSERT INTO progress_events (document_id, seq, client, at, type, detail)
        SELECT document_id, ROW_NUMBER() OVER (PARTITION BY document_id ORDER BY seq), NULL, at,
               CASE kind WHEN 'enqueued' THEN 'queued' WHEN 'requeued' THEN 'queued' WHEN 'released' THEN 'retried'
                         WHEN 'scan_held' THEN 'awaiting_scan' ELSE kind END,
               substr(detail, 1, 1000)
        FROM document_events
        WHERE kind IN ('accepted', 'scan_held', 'scanned', 'enqueued', 'requeued', 'claimed', 'released', 'retried',
                       'completed', 'failed', 'cancelled', 'rejected')
        ORDER BY document_id, seq;
        UPDATE documents SET event_seq = (SELECT COUNT(*) FROM progress_events WHERE document_id = documents.id);
        """,

        // 9: the URL a document was fetched from (a URL upload; NULL for a multipart upload), its query's values left out.
        """
        ALTER TABLE documents ADD COLUMN source_url TEXT NULL;
        """,

        // 10: the format the upload's bytes were recognised as (documents from before are all PDFs).
        """
        ALTER TABLE documents ADD COLUMN format TEXT NOT NULL DEFAULT 'pdf';
        """,

        // 11: per-request pipeline options (Req FMT-4): the document's options as JSON (NULL: before options, the
        // defaults), and the fingerprint of the options each checkpoint was made under, so a claim never resumes from a
        // checkpoint of other options (NULL: made before options, under the defaults).
        """
        ALTER TABLE documents ADD COLUMN options TEXT NULL;
        ALTER TABLE checkpoints ADD COLUMN options_fingerprint TEXT NULL;
        """,

        // 12: completion webhooks (Req OUT-1): an upload's callbackUrl with the secret its notifications are signed with;
        // the configured default subscriptions (copied from configuration at start-up, so that the terminal transaction
        // finds them in SQL); and the outbox, one row per notification and subscription, written in the transaction that
        // ends the document, holding the delivery's state (attempts, next attempt, last error) across restarts.
        """
        CREATE TABLE document_callbacks (
            document_id  TEXT PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            url          TEXT NOT NULL,
            secret       TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE webhook_subscriptions (
            name        TEXT PRIMARY KEY NOT NULL,
            url         TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE webhook_deliveries (
            id               TEXT PRIMARY KEY NOT NULL,
            document_id      TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
            subscription     TEXT NOT NULL,
            url              TEXT NOT NULL,
            type             TEXT NOT NULL,
            payload          TEXT NOT NULL,
            status           TEXT NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            created_at       TEXT NOT NULL,
            next_attempt_at  TEXT NOT NULL,
            last_attempt_at  TEXT NULL,
            last_status      INTEGER NULL,
            last_error       TEXT NULL,
            delivered_at     TEXT NULL
        );
        -- The dispatcher's due rows, oldest first; the API's per-document and dead-letter lists.
        CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE INDEX ix_webhook_deliveries_document ON webhook_deliveries (document_id, created_at);
        """,

        // 13: retention (Req OUT-2). retain_seconds: how long the document is kept once finished (fixed at upload,
        // NULL for documents from before: kept until deleted). expires_at: set by the trigger whenever the status becomes
        // terminal (from the updated_at of that same change), cleared when a retry makes it unfinished again, so no
        // code path that ends a document can forget it. Tombstones outlive the document row: 'deleting' until its files
        // are gone (the sweeper finishes those after a crash), then 'deleted'.
        """
        ALTER TABLE documents ADD COLUMN retain_seconds INTEGER NULL;
        ALTER TABLE documents ADD COLUMN expires_at TEXT NULL;
        CREATE INDEX ix_documents_expires ON documents (expires_at) WHERE expires_at IS NOT NULL;
        CREATE TRIGGER tr_documents_expiry AFTER UPDATE OF status ON documents
        WHEN NEW.status IS NOT OLD.status
        BEGIN
            UPDATE documents SET expires_at = CASE
                WHEN NEW.status NOT IN ('completed', 'failed', 'cancelled', 'rejected') THEN NULL
                WHEN NEW.retain_seconds IS NULL THEN NULL
                ELSE strftime('%Y-%m-%dT%H:%M:%f', NEW.updated_at, '+' || NEW.retain_seconds || ' seconds') || '0000Z'
            END
            WHERE id = NEW.id;
        END;
        CREATE TABLE tombstones (
            id            TEXT PRIMARY KEY NOT NULL,
            file_name     TEXT NOT NULL,
            reason        TEXT NOT NULL,
            state         TEXT NOT NULL,
            status        TEXT NOT NULL,
            deleted_at    TEXT NOT NULL,
            finished_at   TEXT NULL,
            bytes_reclaimed INTEGER NULL
        ) WITHOUT ROWID;
        CREATE INDEX ix_tombstones_deleting ON tombstones (deleted_at) WHERE state = 'deleting';
        """,

        // 14: batch uploads: one row per batch, one per file in the order sent, with the document it became or the
        // problem that refused it. No foreign key to documents: a batch outlives the expiry of its documents (their
        // tombstones say what became of them).
        """
        CREATE TABLE batches (
            id          TEXT PRIMARY KEY NOT NULL,
            client      TEXT NULL,
            created_at  TEXT NOT NULL,
            file_count  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE batch_files (
            batch_id       TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
            position       INTEGER NOT NULL,
            file_name      TEXT NOT NULL,
            document_id    TEXT NULL,
            problem_status INTEGER NULL,
            problem_code   TEXT NULL,
            PRIMARY KEY (batch_id, position)
        ) WITHOUT ROWID;
        """,

        // 15: a notification outlives its document: a DELETE right after the document ended, or its expiry, must not drop
        // one that is not delivered yet. The outbox no longer references documents (a document's deletion removes only
        // its finished deliveries), and a callback delivery keeps the secret it is signed with.
        """
        CREATE TABLE webhook_deliveries_kept (
            id               TEXT PRIMARY KEY NOT NULL,
            document_id      TEXT NOT NULL,
            subscription     TEXT NOT NULL,
            url              TEXT NOT NULL,
            type             TEXT NOT NULL,
            payload          TEXT NOT NULL,
            status           TEXT NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0,
            created_at       TEXT NOT NULL,
            next_attempt_at  TEXT NOT NULL,
            last_attempt_at  TEXT NULL,
            last_status      INTEGER NULL,
            last_error       TEXT NULL,
            delivered_at     TEXT NULL,
            secret           TEXT NULL
        );
        INSERT INTO webhook_deliveries_kept (id, document_id, subscription, url, type, payload, status, attempts, created_at,
                                             next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, secret)
        SELECT d.id, d.document_id, d.subscription, d.url, d.type, d.payload, d.status, d.attempts, d.created_at,
               d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, c.secret
        FROM webhook_deliveries d LEFT JOIN document_callbacks c ON c.document_id = d.document_id AND d.subscription = 'callback';
        DROP TABLE webhook_deliveries;
        ALTER TABLE webhook_deliveries_kept RENAME TO webhook_deliveries;
        CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE INDEX ix_webhook_deliveries_document ON webhook_deliveries (document_id, created_at);
        """,
    ];

    public static int LatestVersion => All.Count;
}
