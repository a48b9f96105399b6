using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Problems;

namespace Suite.ServiceDefaults.Data;

/// <summary>Answer of <c>POST /internal/admin/{db}/backup</c>.</summary>
public sealed record BackupAnswer(string File, long SizeBytes, DateTimeOffset TakenAt, string Folder);

/// <summary>Answer of <c>POST /internal/admin/{db}/integrity-check</c>: <c>ok</c> and SQLite's messages (<c>["ok"]</c> when healthy).</summary>
public sealed record IntegrityAnswer(bool Ok, IReadOnlyList<string> Messages);

/// <summary>
/// Operator routes for a service's SQLite database, under /internal so the gateway never exposes them (it routes
/// only /api) and left out of the public API document: take a backup now, run the full integrity check.
/// </summary>
public static class SqliteAdminEndpoints
{
    public const string Prefix = "/internal/admin";

    public static string BackupRoute(string database) => $"{Prefix}/{database}/backup";

    public static string IntegrityCheckRoute(string database) => $"{Prefix}/{database}/integrity-check";

    /// <summary>Maps <c>POST /internal/admin/{name}/backup</c> and <c>POST /internal/admin/{name}/integrity-check</c>.</summary>
    public static IEndpointRouteBuilder MapSqliteAdminEndpoints(this IEndpointRouteBuilder app, string name)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var group = app.MapGroup($"{Prefix}/{name}").WithTags("internal");
        // The database is picked by name at run time (a service may have several), so from the request's services.
        group.MapPost("backup", (HttpContext http, CancellationToken cancellationToken) =>
            BackupAsync(http.RequestServices.GetRequiredKeyedService<SqliteBackups>(name), cancellationToken));
        group.MapPost("integrity-check", (HttpContext http, CancellationToken cancellationToken) =>
            IntegrityCheckAsync(http.RequestServices.GetRequiredKeyedService<SqliteBackups>(name), cancellationToken));
        return app;
    }

    private static async Task<IResult> BackupAsync(SqliteBackups backups, CancellationToken cancellationToken)
    {
        try
        {
            var backup = await backups.BackupNowAsync(cancellationToken);
            return TypedResults.Ok(new BackupAnswer(backup.FileName, backup.SizeBytes, backup.TakenAt, backups.Folder.Folder));
        }
        catch (BackupRefusedException ex)
        {
            return ApiProblem.Result(409, "backup_refused", "The database is not backed up",
                $"No backup was taken: {ex.Message}");
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or BackupVerificationException)
        {
            return ApiProblem.Result(500, "backup_failed", "The backup failed",
                $"The backup of the {backups.Name} database to {backups.Folder.Folder} failed and was removed ({ex.Message}). " +
                "The service is unaffected. Check the folder's free space and permissions, then try again.",
                retryable: true);
        }
    }

    private static async Task<IResult> IntegrityCheckAsync(SqliteBackups backups, CancellationToken cancellationToken)
    {
        var report = await backups.CheckIntegrityAsync(cancellationToken);
        return TypedResults.Ok(new IntegrityAnswer(report.Ok, report.Messages));
    }
}
