using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Suite.ServiceDefaults.Data;

/// <summary>What SQLite's <c>PRAGMA quick_check</c> or <c>integrity_check</c> said about a database file.</summary>
/// <param name="Ok">The check ran and reported nothing but <c>ok</c>.</param>
/// <param name="Damaged">The file is damaged (the check listed problems, or SQLite called it corrupt or not a database).</param>
/// <param name="Messages">The check's rows (<c>["ok"]</c> when healthy), or the error that stopped it.</param>
public sealed record IntegrityReport(bool Ok, bool Damaged, IReadOnlyList<string> Messages)
{
    /// <summary>The first messages on one line, for logs and readiness descriptions.</summary>
    public string Summary => string.Join("; ", Messages.Take(5)) + (Messages.Count > 5 ? $" (+{Messages.Count - 5} more)" : "");
}

/// <summary>
/// Integrity checks on a SQLite file, on a connection of their own (not pooled, so nothing keeps the file open after).
/// <c>quick_check</c> verifies the b-tree structure in about the time of a full read; <c>integrity_check</c> also
/// cross-checks every index against its table.
/// </summary>
public static class SqliteIntegrity
{
    /// <summary>At most this many problems are listed (SQLite's own default for integrity_check).</summary>
    private const int MaxMessages = 100;

    /// <summary>Opens an existing file (never creates one), unpooled, with a bounded busy timeout.</summary>
    public static SqliteConnection Open(string path, SqliteOpenMode mode = SqliteOpenMode.ReadWrite)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout=5000;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary><c>PRAGMA quick_check</c> on an open connection.</summary>
    public static IntegrityReport QuickCheck(SqliteConnection connection) => Run(connection, "quick_check");

    /// <summary><c>PRAGMA integrity_check</c> (the full one) on the file at <paramref name="path"/>.</summary>
    public static IntegrityReport IntegrityCheck(string path)
    {
        try
        {
            using var connection = Open(path);
            return Run(connection, "integrity_check");
        }
        catch (SqliteException ex)
        {
            return FromError(ex);
        }
    }

    /// <summary><c>PRAGMA quick_check</c> on the file at <paramref name="path"/>.</summary>
    public static IntegrityReport QuickCheck(string path)
    {
        try
        {
            using var connection = Open(path);
            return Run(connection, "quick_check");
        }
        catch (SqliteException ex)
        {
            return FromError(ex);
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static string? Scalar(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static IntegrityReport Run(SqliteConnection connection, string pragma)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var messages = new List<string>();
        try
        {
            using var command = connection.CreateCommand();
            // The limit is our own constant, not a bound parameter: PRAGMA arguments cannot be parameters.
            command.CommandText = $"PRAGMA {pragma}({MaxMessages.ToString(CultureInfo.InvariantCulture)});";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                messages.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
            }
        }
        catch (SqliteException ex)
        {
            // The check can list problems and then stop on one it cannot step over: keep both.
            return FromError(ex, messages);
        }

        var ok = messages is ["ok"];
        return new IntegrityReport(ok, !ok, messages);
    }

    /// <summary>A check SQLite could not finish: damage when it said so (corrupt, not a database) or had listed problems, otherwise just not ok.</summary>
    private static IntegrityReport FromError(SqliteException ex, List<string>? listed = null)
    {
        var primary = ex.SqliteErrorCode & 0xFF;
        var damaged = primary is SqliteErrors.Corrupt or SqliteErrors.NotADatabase || listed is { Count: > 0 };
        return new IntegrityReport(false, damaged, [.. listed ?? [], $"SQLite error {primary.ToString(CultureInfo.InvariantCulture)}: {ex.Message}"]);
    }
}
