using System.Net;
using System.Security.Cryptography;
using LabelingBridge.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>
/// The export outbox's backups (Req DB-4): taken every second by the real bridge with retention, checked on demand
/// by the integrity route, and brought back over a damaged outbox by <c>dotnet LabelingBridge.dll restore-outbox</c>
/// run as a real process; the restored bridge still knows the export.
/// </summary>
public sealed class OutboxBackupTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task The_outbox_is_backed_up_with_retention_and_restore_outbox_brings_a_backup_back_over_a_damaged_file()
    {
        var dataDir = Directory.CreateTempSubdirectory("bridge-backup-").FullName;
        var outbox = Path.Combine(dataDir, "outbox.db");
        var backupsDir = Path.Combine(dataDir, "backups");
        try
        {
            string exportId;
            await using (var s = await Scenario.StartAsync(c =>
            {
                c["Outbox:DatabasePath"] = outbox;
                c["Outbox:Backups:IntervalSeconds"] = "1";
                c["Outbox:Backups:FirstBackupDelaySeconds"] = "0";
                c["Outbox:Backups:Retain"] = "2";
            }))
            {
                exportId = await s.RequestExportAsync(s.AddDocument(pages: 1));
                var backups = s.Bridge.Services.GetRequiredKeyedService<SqliteBackups>("outbox");
                var after = backups.Status.Successes;
                await Eventually.UntilAsync(() => backups.Status.Successes >= after + 4, Wait, "four backups after the export was stored");

                using var check = await s.Client.PostAsync(new Uri(SqliteAdminEndpoints.IntegrityCheckRoute("outbox"), UriKind.Relative), null);
                Assert.Equal(HttpStatusCode.OK, check.StatusCode);
                Assert.Contains("\"ok\":true", await check.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // The bridge is stopped; its pooled connections in this process are closed too, as a stopped process's are.
            SqliteConnection.ClearAllPools();
            var kept = Directory.GetFiles(backupsDir).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2, kept.Count);
            Assert.All(kept, f => Assert.Matches(@"/outbox-\d{8}T\d{6}Z\.db$", f));

            await ProcessRun.DdAsync(outbox, "/dev/urandom", blockSize: 1, count: 4096, seek: 0);
            var damaged = Sha256(outbox);

            // Where the outbox is comes from the bridge's own configuration (Outbox__DatabasePath).
            var restore = await ProcessRun.ServiceAsync("LabelingBridge", ["restore-outbox"], TimeSpan.FromSeconds(120),
                new Dictionary<string, string?> { ["Outbox__DatabasePath"] = outbox });
            Assert.True(restore.ExitCode == 0, restore.ToString());
            Assert.Contains($"from {kept[^1]}", restore.Output, StringComparison.Ordinal);
            Assert.Equal(damaged, Sha256(Assert.Single(Directory.GetFiles(dataDir, "outbox.db.damaged-*"))));

            await using var restored = await Scenario.StartAsync(c => c["Outbox:DatabasePath"] = outbox);
            var export = await restored.ExportAsync(exportId);
            Assert.Equal(exportId, export.GetProperty("exportId").GetString());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
