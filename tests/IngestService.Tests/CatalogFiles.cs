using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>Looks at catalog files and their backups from outside the service: hashes, SQLite's own CLI, plain reads.</summary>
internal static class CatalogFiles
{
    public static string BackupsDir(string root) => Path.Combine(root, "backups");

    public static string CatalogPath(string root) => Path.Combine(root, "catalog.db");

    /// <summary>The catalog's backups, oldest first.</summary>
    public static List<string> Backups(string root) =>
        Directory.Exists(BackupsDir(root))
            ? Directory.GetFiles(BackupsDir(root), "catalog-*.db").Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Anything in the backup folder that is not a finished backup (a temp file, a journal, a WAL).</summary>
    public static List<string> Leftovers(string root) =>
        Directory.Exists(BackupsDir(root))
            ? Directory.GetFiles(BackupsDir(root)).Where(f => !Path.GetFileName(f).StartsWith("catalog-", StringComparison.Ordinal) || !f.EndsWith(".db", StringComparison.Ordinal)).ToList()
            : [];

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary><c>PRAGMA quick_check</c> by the sqlite3 command-line shell, read-only: "ok" for a sound file.</summary>
    public static async Task<string> QuickCheckAsync(string path)
    {
        var result = await ProcessRun.RunAsync("sqlite3", ["-readonly", path, "PRAGMA quick_check;"], TimeSpan.FromSeconds(30));
        return (result.Output + result.Error).Trim();
    }

    /// <summary>The sqlite3 shell's answer to one query, read-only.</summary>
    public static async Task<string> QueryAsync(string path, string sql)
    {
        var result = await ProcessRun.RunAsync("sqlite3", ["-readonly", path, sql], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"sqlite3 {path} '{sql}': {result}");
        return result.Output.Trim();
    }

    public static async Task<HashSet<string>> DocumentIdsAsync(string path) =>
        (await QueryAsync(path, "SELECT id FROM documents;")).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>A read-write connection that never stays in a pool (so it holds nothing after disposal).</summary>
    public static SqliteConnection OpenUnpooled(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }
}
