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
}
