using LabelingBridge.Configuration;
using Suite.ServiceDefaults.Data;

namespace LabelingBridge.Outbox;

/// <summary>
/// <c>dotnet LabelingBridge.dll restore-outbox [--from &lt;backup-file&gt;] [--database &lt;outbox.db&gt;]</c>: puts an
/// outbox backup in place of the outbox database while the bridge is stopped (docs/runbooks/restore.md). The
/// database is the flag, else Outbox:DatabasePath of the bridge's own configuration (Outbox__DatabasePath).
/// </summary>
internal static class RestoreCommand
{
    public const string Name = "restore-outbox";

    private static readonly RestoreCommandSpec Spec = new(
        Name,
        OutboxDb.DatabaseName,
        OutboxBackupExtensions.Section,
        "--database",
        "file",
        "the outbox file; default: Outbox:DatabasePath of the bridge's configuration (Outbox__DatabasePath)",
        (configuration, database) =>
            database ?? (configuration.GetSection(OutboxOptions.Section).Get<OutboxOptions>() ?? new OutboxOptions()).DatabasePath,
        "the outbox database path is empty: pass --database <file> or set Outbox__DatabasePath as for the bridge.",
        "start the bridge: it checks the outbox at start-up. Exports requested after the backup are not in it; request them again.");

    public static bool IsRequested(string[] args) => SqliteRestoreCommand.IsRequested(args, Name);

    public static int Run(string[] args) => SqliteRestoreCommand.Run(args, Spec, Console.Out, Console.Error);
}
