using IngestService.Catalog;
using Microsoft.Data.Sqlite;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Batches;

/// <summary>One file of a batch as recorded: its document, or the problem that refused it.</summary>
internal sealed record BatchFileRecord(int Position, string FileName, string? DocumentId, int? ProblemStatus, string? ProblemCode, string? Status, string? GoneReason)
{
    public static BatchFileRecord Read(SqliteDataReader r) => new(
        r.GetInt32(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetInt32(3),
        r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6));
}

/// <summary>A batch and its files in the catalog (migration 14).</summary>
internal sealed class BatchCatalog(CatalogDb db, TimeProvider time)
{
    public Task<DateTimeOffset> InsertBatchAsync(string id, string? client, int files, CancellationToken cancellationToken) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, BatchSql.InsertBatch,
                [("@id", id), ("@client", string.IsNullOrEmpty(client) ? null : client), ("@now", now), ("@files", files)], ct);
            return CatalogTime.Parse(now);
        }, cancellationToken);

    /// <summary>Recorded as soon as the file is decided, so the batch lists every document that was created.</summary>
    public Task RecordFileAsync(string batchId, int position, string fileName, string? documentId, int? problemStatus, string? problemCode) =>
        db.WriteAsync((connection, transaction, ct) => ExecuteAsync(connection, transaction, BatchSql.InsertFile,
        [
            ("@batch_id", batchId),
            ("@position", position),
            ("@file_name", fileName),
            ("@document_id", documentId),
            ("@problem_status", problemStatus),
            ("@problem_code", problemCode),
        ], ct), CancellationToken.None);

    public Task<(DateTimeOffset CreatedAt, int Files, List<BatchFileRecord> Items)?> FindAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync<(DateTimeOffset, int, List<BatchFileRecord>)?>(async (connection, ct) =>
        {
            var batch = await QueryFirstAsync<(string CreatedAt, int Files)?>(connection, null, BatchSql.SelectBatch, [("@id", id)],
                r => (r.GetString(1), r.GetInt32(2)), ct);
            if (batch is not { } found)
            {
                return null;
            }

            var files = await QueryAsync(connection, null, BatchSql.SelectFiles, [("@id", id)], BatchFileRecord.Read, ct);
            return (CatalogTime.Parse(found.CreatedAt), found.Files, files);
        }, cancellationToken);
}
