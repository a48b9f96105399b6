using System.Diagnostics;
using Suite.Contracts;
using static IngestService.Catalog.CatalogCommands;

namespace IngestService.Catalog;

/// <summary>A new document in the catalog: its row, a pending row per stage and its first history entry, in one transaction.</summary>
internal sealed class DocumentRegistration(CatalogDb db, TimeProvider time)
{
    /// <summary>
    /// Inserts a document (queued unless <paramref name="status"/> says otherwise: uploads start awaiting_scan) with all
    /// stages pending, its job priority, the uploading client, the URL it was fetched from (a URL upload), the format its
    /// bytes were recognised as, its pipeline options and the current W3C trace context, and its completion webhook
    /// (callbackUrl and secret) if it asked for one; returns its creation time.
    /// </summary>
    public Task<DateTimeOffset> InsertAsync(
        string id, string fileName, string sha256, long sizeBytes, string priority, CancellationToken cancellationToken, string status = DocumentStatus.Queued,
        string? client = null, string? sourceUrl = null, string format = DocumentFormats.Pdf, DocumentOptions? options = null,
        Webhooks.DocumentCallback? callback = null, long? retainSeconds = null) =>
        db.WriteAsync(async (connection, transaction, ct) =>
        {
            var now = CatalogTime.Now(time);
            await ExecuteAsync(connection, transaction, CatalogSql.InsertDocument,
            [
                ("@id", id),
                ("@file_name", fileName),
                ("@sha256", sha256),
                ("@size_bytes", sizeBytes),
                ("@status", status),
                ("@now", now),
                ("@trace_parent", Activity.Current?.Id),
                ("@priority", priority),
                ("@client", string.IsNullOrEmpty(client) ? null : client),
                ("@source_url", sourceUrl),
                ("@format", format),
                ("@options", (options ?? DocumentOptions.Default).ToJson()),
                ("@retain_seconds", retainSeconds),
            ], ct);

            if (callback is not null)
            {
                await ExecuteAsync(connection, transaction, "INSERT INTO document_callbacks (document_id, url, secret) VALUES (@id, @url, @secret);",
                    [("@id", id), ("@url", callback.Url), ("@secret", callback.Secret)], ct);
            }

            foreach (var stage in PipelineStageNames.All)
            {
                await ExecuteAsync(connection, transaction, CatalogSql.InsertStage, [("@id", id), ("@name", stage), ("@status", StageStatus.Pending)], ct);
            }

            await InsertEventAsync(connection, transaction, id, now, DocumentEventKinds.Accepted, detail: $"{sizeBytes} bytes, sha256 {sha256}", ct: ct);
            return CatalogTime.Parse(now);
        }, cancellationToken);
}
