namespace IngestService.Retention;

/// <summary>The retention queries (all parameterized, each on an index: Req IN-8, DB-5).</summary>
internal static class RetentionSql
{
    public const string SelectTombstone =
        "SELECT id, file_name, reason, state, status, deleted_at, finished_at, bytes_reclaimed FROM tombstones WHERE id = @id;";

    /// <summary>Finished documents whose time is up, oldest expiry first (partial index ix_documents_expires).</summary>
    public const string SelectExpired =
        "SELECT id FROM documents WHERE expires_at IS NOT NULL AND expires_at <= @now ORDER BY expires_at LIMIT @limit;";

    /// <summary>Tombstones whose files may still be on disk (a crash between the tombstone and the removal).</summary>
    public const string SelectDeleting =
        "SELECT id FROM tombstones WHERE state = 'deleting' ORDER BY deleted_at LIMIT @limit;";

    public const string InsertTombstone =
        "INSERT INTO tombstones (id, file_name, reason, state, status, deleted_at) VALUES (@id, @file_name, @reason, 'deleting', @status, @now);";

    /// <summary>The row goes; its stages, checkpoints' rows, history and progress events go with it (ON DELETE CASCADE).</summary>
    public const string DeleteDocument = "DELETE FROM documents WHERE id = @id;";

    /// <summary>A document's notifications that are done with (delivered, dead-lettered); pending ones are still sent after its deletion.</summary>
    public const string DeleteFinishedDeliveries = "DELETE FROM webhook_deliveries WHERE document_id = @id AND status <> 'pending';";

    public const string FinishTombstone =
        "UPDATE tombstones SET state = 'deleted', finished_at = @now, bytes_reclaimed = COALESCE(bytes_reclaimed, 0) + @bytes " +
        "WHERE id = @id AND state = 'deleting';";

    public const string AddReclaimed =
        "UPDATE tombstones SET bytes_reclaimed = COALESCE(bytes_reclaimed, 0) + @bytes WHERE id = @id AND @now IS NOT NULL;";

}
