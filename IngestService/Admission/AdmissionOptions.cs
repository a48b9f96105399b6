using System.ComponentModel.DataAnnotations;

namespace IngestService.Admission;

/// <summary>When new uploads are shed instead of accepted (section <c>Admission</c>), before the service is in trouble.</summary>
internal sealed class AdmissionOptions
{
    public const string Section = "Admission";

    /// <summary>Documents waiting (queued, not yet being processed) above which uploads get 429 queue_full.</summary>
    [Range(1, 100_000_000, ErrorMessage = "Admission:MaxQueuedDocuments must be from 1 to 100000000.")]
    public int MaxQueuedDocuments { get; set; } = 10_000;

    /// <summary>The Retry-After of a queue_full answer.</summary>
    [Range(1, 3600, ErrorMessage = "Admission:QueueFullRetryAfterSeconds must be from 1 to 3600.")]
    public int QueueFullRetryAfterSeconds { get; set; } = 30;

    /// <summary>Free bytes on the storage root's file system below which uploads get 507 disk_space_low.</summary>
    [Range(typeof(long), "0", "1125899906842624", ErrorMessage = "Admission:MinFreeDiskBytes must be from 0 to 1 PiB.")]
    public long MinFreeDiskBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>GC memory load (percent of the memory available to the process) above which uploads get 503 memory_pressure.</summary>
    [Range(1, 100, ErrorMessage = "Admission:MaxMemoryLoadPercent must be from 1 to 100.")]
    public int MaxMemoryLoadPercent { get; set; } = 90;

    /// <summary>The Retry-After of a memory_pressure answer.</summary>
    [Range(1, 3600, ErrorMessage = "Admission:MemoryPressureRetryAfterSeconds must be from 1 to 3600.")]
    public int MemoryPressureRetryAfterSeconds { get; set; } = 15;
}
