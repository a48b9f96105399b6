using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Suite.ServiceDefaults.Data;

/// <summary>
/// A service's restore command as it describes itself: its name (the first argument of the service binary), the
/// database's name, the backup settings section, the one flag that says where the database is, and how to find
/// the database from that flag or, without it, from the service's own configuration.
/// </summary>
public sealed record RestoreCommandSpec(
    string Command,
    string DatabaseName,
    string BackupSection,
    string LocationFlag,
    string LocationValue,
    string LocationHelp,
    Func<IConfiguration, string?, string?> DatabasePath,
    string MissingLocation,
    string AfterRestore);

/// <summary>
/// Runs a restore command (<c>dotnet Service.dll restore-xyz [--from &lt;backup&gt;] [--location-flag &lt;value&gt;]</c>) before
/// any host is built: the arguments, then the service's own configuration (appsettings.json, appsettings.{Environment}.json,
/// environment variables, read as the service reads them) for where the database and its backups are, then
/// <see cref="SqliteRestore"/>.
/// </summary>
public static class SqliteRestoreCommand
{
    public static bool IsRequested(IReadOnlyList<string> args, string command)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Count > 0 && string.Equals(args[0], command, StringComparison.Ordinal);
    }

    public static int Run(IReadOnlyList<string> args, RestoreCommandSpec spec, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? from = null;
        string? location = null;
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                output.WriteLine(Usage(spec));
                return RestoreExitCodes.Restored;
            }

            if ((arg == "--from" || arg == spec.LocationFlag) && i + 1 < args.Count)
            {
                if (arg == "--from")
                {
                    from = args[++i];
                }
                else
                {
                    location = args[++i];
                }

                continue;
            }

            error.WriteLine($"{spec.Command}: unexpected argument '{arg}'.");
            error.WriteLine(Usage(spec));
            return RestoreExitCodes.Usage;
        }

        // The same sources and the same precedence as the service, without building its host.
        var configuration = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] }).Configuration;
        if (spec.DatabasePath(configuration, location) is not { Length: > 0 } databasePath)
        {
            error.WriteLine($"{spec.Command}: {spec.MissingLocation} Nothing was changed.");
            return RestoreExitCodes.Usage;
        }

        var options = configuration.GetSection(spec.BackupSection).Get<SqliteBackupOptions>() ?? new SqliteBackupOptions();
        var backups = new BackupFolder(options.ResolveFolder(databasePath), spec.DatabaseName);
        return SqliteRestore.Run(new RestoreRequest(spec.Command, databasePath, backups, from, spec.AfterRestore), TimeProvider.System, output, error);
    }

    private static string Usage(RestoreCommandSpec spec) =>
        $"""
         Usage: dotnet <service>.dll {spec.Command} [--from <backup-file>] [{spec.LocationFlag} <{spec.LocationValue}>]
           --from <backup-file>   the backup to restore; default: the newest {spec.DatabaseName}-<UTC time>.db in the backup folder
                                  ({spec.BackupSection}:Folder, default a backups/ folder beside the database)
           {spec.LocationFlag + " <" + spec.LocationValue + ">",-22} {spec.LocationHelp}
         Run it while the service is stopped. Exit codes: 0 restored, 1 failed (files put back), 2 usage,
         3 no usable backup, 4 the service is running. See docs/runbooks/restore.md.
         """;
}
