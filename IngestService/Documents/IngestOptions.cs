using System.ComponentModel.DataAnnotations;

namespace IngestService.Documents;

/// <summary>Limits of the public and internal APIs (section <c>Ingest</c>).</summary>
internal sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Largest accepted upload. Enforced while the file streams in (413 file_too_large), not after.</summary>
    [Range(typeof(long), "1", "1099511627776", ErrorMessage = "Ingest:MaxUploadBytes must be from 1 byte to 1 TiB.")]
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Largest page a list request may ask for (<c>limit</c>).</summary>
    [Range(1, 1000, ErrorMessage = "Ingest:MaxPageSize must be from 1 to 1000.")]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Page size when a list request gives no <c>limit</c>; at most MaxPageSize.</summary>
    [Range(1, 1000, ErrorMessage = "Ingest:DefaultPageSize must be from 1 to 1000.")]
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest checkpoint or result body a worker may send.</summary>
    [Range(typeof(long), "1024", "1099511627776", ErrorMessage = "Ingest:MaxWorkerBodyBytes must be from 1 KiB to 1 TiB.")]
    public long MaxWorkerBodyBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>How long an upload's Idempotency-Key keeps naming its document.</summary>
    [Range(1, 24 * 365, ErrorMessage = "Ingest:IdempotencyKeyHours must be from 1 to 8760.")]
    public int IdempotencyKeyHours { get; set; } = 24;

    /// <summary>Most files in one batch upload (POST /api/batches); one more: 400 too_many_files, nothing stored.</summary>
    [Range(1, 1000, ErrorMessage = "Ingest:MaxBatchFiles must be from 1 to 1000.")]
    public int MaxBatchFiles { get; set; } = 50;

    /// <summary>Largest body of a batch upload, all files together; more: 413 batch_too_large, nothing stored.</summary>
    [Range(typeof(long), "1024", "1099511627776", ErrorMessage = "Ingest:MaxBatchBytes must be from 1 KiB to 1 TiB.")]
    public long MaxBatchBytes { get; set; } = 256L * 1024 * 1024;
}
