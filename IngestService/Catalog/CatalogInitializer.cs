using System.Globalization;
using Microsoft.Data.Sqlite;
using Suite.ServiceDefaults.Lifecycle;
using Suite.ServiceDefaults.Telemetry;

namespace IngestService.Catalog;

/// <summary>
/// At start-up: WAL mode, <c>PRAGMA quick_check</c>, then the pending migrations. A database that fails the check
/// is left untouched and the service starts not ready (the readiness JSON says why) instead of making it worse.
/// A start-up step, after the storage step and in the background: the catalog stays unavailable (CatalogState, whose
/// first state is "not opened yet") until the migrations ran, so nothing writes to it before.
/// </summary>
internal sealed partial class CatalogInitializer(CatalogDb db, CatalogState state, ILogger<CatalogInitializer> logger, DatabaseMetrics? databaseMetrics = null) : IStartupStep
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
        string? quickCheck = null;
        try
        {
            await using var connection = await db.OpenAsync(cancellationToken, requireAvailable: false);

            quickCheck = await ScalarAsync(connection, "PRAGMA quick_check(1);", cancellationToken);
            if (!string.Equals(quickCheck, "ok", StringComparison.Ordinal))
            {
                databaseMetrics?.Error(CatalogDb.DatabaseName, CatalogDb.SqliteCorrupt);
                Fail($"PRAGMA quick_check reported damage: {quickCheck}. Restore the catalog from a backup.", quickCheck);
                return;
            }

            // journal_mode=WAL is stored in the file, so setting it once per start is enough.
            var journal = await ScalarAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
            {
                Fail($"the catalog could not switch to WAL journal mode (it reports '{journal}').", quickCheck);
                return;
            }

            var version = int.Parse(await ScalarAsync(connection, "PRAGMA user_version;", cancellationToken) ?? "0", CultureInfo.InvariantCulture);
            if (version > CatalogMigrations.LatestVersion)
            {
                Fail($"the catalog has schema version {version}, newer than this service knows ({CatalogMigrations.LatestVersion}). " +
                     "Run a newer build of IngestService.", quickCheck);
                return;
            }

            for (var next = version + 1; next <= CatalogMigrations.LatestVersion; next++)
            {
                await using var transaction = connection.BeginTransaction();
                await using (var migrate = connection.CreateCommand())
                {
                    migrate.Transaction = transaction;
                    // user_version cannot be a bound parameter; the value is our own migration number.
                    migrate.CommandText = CatalogMigrations.All[next - 1] + $"\nPRAGMA user_version = {next.ToString(CultureInfo.InvariantCulture)};";
                    await migrate.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                LogMigrated(next);
            }

            state.MarkAvailable(quickCheck ?? "ok", CatalogMigrations.LatestVersion);
            LogReady(db.Path, CatalogMigrations.LatestVersion);
        }
        catch (SqliteException ex)
        {
            databaseMetrics?.Error(CatalogDb.DatabaseName, ex.SqliteErrorCode);
            Fail($"the catalog database cannot be opened ({ex.Message}, SQLite error {ex.SqliteErrorCode}). " +
                 "If the file is damaged, restore it from a backup.", quickCheck ?? "failed");
        }
    }

    private void Fail(string reason, string? quickCheck)
    {
        state.MarkUnavailable(reason, quickCheck);
        LogUnavailable(db.Path, reason);
    }

    private static async Task<string?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog migrated to schema version {Version}")]
    private partial void LogMigrated(int version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog {Path} ready (WAL, schema version {Version}, quick_check ok)")]
    private partial void LogReady(string path, int version);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Catalog {Path} unavailable; the service stays not ready: {Reason}")]
    private partial void LogUnavailable(string path, string reason);
}
