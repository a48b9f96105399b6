using Microsoft.Data.Sqlite;
using Suite.ServiceDefaults.Data;
using Suite.ServiceDefaults.Lifecycle;

namespace IngestService.Catalog;

/// <summary>
/// At start-up: <c>PRAGMA quick_check</c>, WAL mode, then the pending migrations (<see cref="SqliteSchema"/>, the only
/// step allowed to create the file). A database that fails the check is left untouched and the service starts not
/// ready (the readiness JSON says why) instead of making it worse. A start-up step, after the storage step and in the
/// background: the catalog stays unavailable (CatalogState, whose first state is "not opened yet") until the
/// migrations ran, so nothing writes to it before.
/// </summary>
internal sealed partial class CatalogInitializer(CatalogDb db, CatalogState state, ILogger<CatalogInitializer> logger) : IStartupStep
{
    public string Name => "opening the catalog";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await OpenCheckAndMigrateAsync(cancellationToken);
        if (!state.IsAvailable)
        {
            // Retrying cannot repair a damaged or newer catalog: start-up stops here, the service stays live and not ready.
            throw new StartupFailedException(state.Current.Description);
        }
    }

    private async Task OpenCheckAndMigrateAsync(CancellationToken cancellationToken)
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
