using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Suite.ServiceDefaults.Data;

/// <summary>What start-up found wrong with a database file; <see cref="None"/> when it is ready.</summary>
public enum SchemaProblem
{
    None,

    /// <summary><c>PRAGMA quick_check</c> reported damage (in <see cref="SchemaCheck.QuickCheck"/>); the file was not changed.</summary>
    Damaged,

    /// <summary>The file would not switch to WAL journal mode (it reports <see cref="SchemaCheck.JournalMode"/>).</summary>
    NotWal,

    /// <summary>The file's schema version is newer than the migrations this build knows.</summary>
    NewerThanKnown,
}

/// <summary>The outcome of <see cref="SqliteSchema.ApplyAsync"/>.</summary>
public sealed record SchemaCheck(SchemaProblem Problem, string QuickCheck, string? JournalMode, int FoundVersion, int LatestVersion)
{
    public bool Ready => Problem == SchemaProblem.None;
}

/// <summary>
/// Start-up of a database file, shared by every service: <c>PRAGMA quick_check</c> first (a damaged file is left as it
/// is), then WAL journal mode (stored in the file), then the pending migrations, each in its own BEGIN IMMEDIATE transaction
/// together with its <c>PRAGMA user_version</c>. A service supplies only its ordered list of migrations; append, never edit.
/// </summary>
public static partial class SqliteSchema
{
    public static async Task<SchemaCheck> ApplyAsync(SqliteConnection connection, IReadOnlyList<string> migrations, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(migrations);
        var latest = migrations.Count;
        var quickCheck = await ScalarAsync(connection, "PRAGMA quick_check(1);", cancellationToken) ?? "";
        if (!string.Equals(quickCheck, "ok", StringComparison.Ordinal))
        {
            return new SchemaCheck(SchemaProblem.Damaged, quickCheck, null, 0, latest);
        }

        var journal = await ScalarAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
        if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
        {
            return new SchemaCheck(SchemaProblem.NotWal, quickCheck, journal, 0, latest);
        }

        int? found = null;
        while (true)
        {
            // BEGIN IMMEDIATE before reading the version: two processes starting on one file migrate one after the other.
            await using var transaction = connection.BeginTransaction();
            var version = int.Parse(await ScalarAsync(connection, "PRAGMA user_version;", cancellationToken, transaction) ?? "0", CultureInfo.InvariantCulture);
            found ??= version;
            if (version > latest)
            {
                return new SchemaCheck(SchemaProblem.NewerThanKnown, quickCheck, journal, version, latest);
            }

            if (version == latest)
            {
                await transaction.CommitAsync(cancellationToken);
                break;
            }

            await using (var migrate = connection.CreateCommand())
            {
                migrate.Transaction = transaction;
                // user_version cannot be a bound parameter; the value is our own migration number.
                migrate.CommandText = migrations[version] + $"\nPRAGMA user_version = {(version + 1).ToString(CultureInfo.InvariantCulture)};";
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            LogMigrated(logger, connection.DataSource, version + 1);
        }

        return new SchemaCheck(SchemaProblem.None, quickCheck, journal, found.Value, latest);
    }

    private static async Task<string?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Path} migrated to schema version {Version}")]
    private static partial void LogMigrated(ILogger logger, string path, int version);
}
