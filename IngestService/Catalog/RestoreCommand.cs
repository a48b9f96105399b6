using IngestService.Storage;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;

namespace IngestService.Catalog;

/// <summary>
/// <c>dotnet IngestService.dll restore-catalog [--from &lt;backup-file&gt;] [--storage-root &lt;dir&gt;]</c>: puts a
/// catalog backup in place of {Storage:Root}/catalog.db while the service is stopped (docs/runbooks/restore.md).
/// Storage:Root comes from the flag, else from the service's own configuration (appsettings, Storage__Root).
/// </summary>
internal static class RestoreCommand
{
    public const string Name = "restore-catalog";

    private static readonly RestoreCommandSpec Spec = new(
        Name,
        CatalogDb.DatabaseName,
        CatalogBackupExtensions.Section,
        "--storage-root",
        "dir",
        "the service's storage root; default: Storage:Root of the service's configuration (Storage__Root)",
        (configuration, storageRoot) =>
        {
            var root = storageRoot ?? configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Root)}"];
            return string.IsNullOrWhiteSpace(root) ? null : new BlobStore(Options.Create(new StorageOptions { Root = root })).CatalogPath;
        },
        "Storage:Root is not set: pass --storage-root <dir> or set Storage__Root as for the service.",
        "start the service: it checks the catalog at start-up and re-enqueues the unfinished documents the backup knows. " +
        "Documents uploaded after the backup are not in it (their files stay under uploads/).");

    public static bool IsRequested(string[] args) => SqliteRestoreCommand.IsRequested(args, Name);

    public static int Run(string[] args) => SqliteRestoreCommand.Run(args, Spec, Console.Out, Console.Error);
}
