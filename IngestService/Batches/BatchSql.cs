namespace IngestService.Batches;

/// <summary>The batch queries (parameterized, each on a primary key: Req IN-8, DB-5).</summary>
internal static class BatchSql
{
    public const string InsertBatch = "INSERT INTO batches (id, client, created_at, file_count) VALUES (@id, @client, @now, @files);";

    public const string InsertFile =
        "INSERT INTO batch_files (batch_id, position, file_name, document_id, problem_status, problem_code) " +
        "VALUES (@batch_id, @position, @file_name, @document_id, @problem_status, @problem_code);";

    public const string SelectBatch = "SELECT id, created_at, file_count FROM batches WHERE id = @id;";

    /// <summary>Each file in order, with its document's status now, or its tombstone's reason once the document is gone.</summary>
    public const string SelectFiles =
        "SELECT f.position, f.file_name, f.document_id, f.problem_status, f.problem_code, d.status, t.reason " +
        "FROM batch_files f LEFT JOIN documents d ON d.id = f.document_id LEFT JOIN tombstones t ON t.id = f.document_id " +
        "WHERE f.batch_id = @id ORDER BY f.position;";
}
