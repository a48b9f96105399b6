using System.ComponentModel.DataAnnotations;

namespace IngestService.Storage;

/// <summary>Where the service keeps its blobs and its catalog (section <c>Storage</c>).</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Root folder of uploads/, results/, checkpoints/, tmp/ and catalog.db. The AppHost sets Storage__Root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage =
        "Storage:Root is not set. Set it to a writable folder (environment variable Storage__Root); the AppHost sets it for you.")]
    public string Root { get; set; } = "";

    /// <summary>How often the orphan sweeper looks for files a crash left behind (default hourly).</summary>
    [Range(10, 86_400, ErrorMessage = "Storage:OrphanSweepIntervalSeconds must be between 10 and 86400.")]
    public int OrphanSweepIntervalSeconds { get; set; } = 3600;

    /// <summary>
    /// How old a temp file or a blob without a catalog row must be before the sweeper removes it (default an hour: far
    /// longer than an upload takes between writing its file and inserting its row).
    /// </summary>
    [Range(1, 604_800, ErrorMessage = "Storage:OrphanGraceSeconds must be between 1 and 604800.")]
    public int OrphanGraceSeconds { get; set; } = 3600;
}
