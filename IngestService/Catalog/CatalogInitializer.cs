using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Suite.ServiceDefaults.Data;

namespace IngestService.Catalog;

/// <summary>
/// At start-up: <c>PRAGMA quick_check</c>, WAL mode, then the pending migrations (<see cref="SqliteSchema"/>, the only
/// step allowed to create the file). A database that fails the check is left untouched and the service starts not
/// ready (the readiness JSON says why) instead of making it worse.
/// </summary>
internal sealed partial class CatalogInitializer(CatalogDb db, CatalogState state, ILogger<CatalogInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var check = await db.Database.InitializeAsync(CatalogMigrations.All, cancellationToken);
            switch (check.Problem)
            {
                case SchemaProblem.Damaged:
                    Fail($"PRAGMA quick_check reported damage: {check.QuickCheck}. Restore the catalog from a backup.", check.QuickCheck);
                    return;
                case SchemaProblem.NotWal:
                    Fail($"the catalog could not switch to WAL journal mode (it reports '{check.JournalMode}').", check.QuickCheck);
                    return;
                case SchemaProblem.NewerThanKnown:
                    Fail($"the catalog has schema version {check.FoundVersion}, newer than this service knows ({check.LatestVersion}). " +
                         "Run a newer build of IngestService.", check.QuickCheck);
                    return;
            }

            state.MarkAvailable(check.QuickCheck, check.LatestVersion);
            LogReady(db.Path, check.LatestVersion);
        }
        catch (SqliteException ex)
        {
            Fail($"the catalog database cannot be opened ({ex.Message}, SQLite error {ex.SqliteErrorCode}). " +
                 "If the file is damaged, restore it from a backup.", "failed");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Fail(string reason, string? quickCheck)
    {
        state.MarkUnavailable(reason, quickCheck);
        LogUnavailable(db.Path, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog {Path} ready (WAL, schema version {Version}, quick_check ok)")]
    private partial void LogReady(string path, int version);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Catalog {Path} unavailable; the service stays not ready: {Reason}")]
    private partial void LogUnavailable(string path, string reason);
}
