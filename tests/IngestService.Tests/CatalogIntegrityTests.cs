using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The integrity check on demand (Req SU-2): <c>POST /internal/admin/catalog/integrity-check</c> on the live catalog
/// of a running service. Healthy: ok. A table page overwritten under the running service with the real dd: the
/// damage is reported, logged Critical, and the service stops using the catalog (not ready, writes 503).
/// </summary>
public sealed class CatalogIntegrityTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "SU-2")]
    public async Task The_integrity_route_says_ok_for_a_sound_catalog_and_reports_a_damaged_table_page_making_the_service_not_ready()
    {
        // Nothing in the service writes on its own during the test (no periodic backups, sweeps far apart): the damaged
        // page stays the only copy of itself, never rewritten from a cache into the WAL.
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Catalog:Backups:Enabled"] = "false",
            ["Queue:SweepIntervalSeconds"] = "3600",
            ["Queue:VerifyAfterSeconds"] = "86400",
        }).Start();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await Api.UploadOkAsync(host.Client, Api.MinimalPdf, $"page-{i}.pdf"));
        }

        using (var sound = await host.Client.PostAsync(SqliteAdminEndpoints.IntegrityCheckRoute("catalog"), null))
        {
            Assert.Equal(HttpStatusCode.OK, sound.StatusCode);
            var answer = await Api.JsonAsync(sound);
            Assert.True(answer.GetProperty("ok").GetBoolean(), answer.ToString());
            Assert.Equal(["ok"], answer.GetProperty("messages").EnumerateArray().Select(m => m.GetString()));
        }

        // Everything committed into the main file (the WAL emptied), then the documents table's root page zeroed.
        var catalog = CatalogFiles.CatalogPath(host.Root);
        long rootPage;
        long pageSize;
        using (var connection = CatalogFiles.OpenUnpooled(catalog))
        {
            await Eventually.UntilAsync(() => Scalar(connection, "PRAGMA wal_checkpoint(TRUNCATE);") == 0, TimeSpan.FromSeconds(20), "a complete checkpoint");
            rootPage = Scalar(connection, "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'documents';");
            pageSize = Scalar(connection, "PRAGMA page_size;");
        }

        Assert.True(!File.Exists(catalog + "-wal") || new FileInfo(catalog + "-wal").Length == 0, "the WAL is empty");
        await ProcessRun.DdAsync(catalog, "/dev/zero", blockSize: (int)pageSize, count: 1, seek: rootPage - 1);

        using (var damaged = await host.Client.PostAsync(SqliteAdminEndpoints.IntegrityCheckRoute("catalog"), null))
        {
            Assert.Equal(HttpStatusCode.OK, damaged.StatusCode);
            var answer = await Api.JsonAsync(damaged);
            Assert.False(answer.GetProperty("ok").GetBoolean(), answer.ToString());
            Assert.NotEmpty(answer.GetProperty("messages").EnumerateArray());
            Assert.DoesNotContain("ok", answer.GetProperty("messages").EnumerateArray().Select(m => m.GetString()));
        }

        Assert.True(host.Logs.Any(LogLevel.Critical, "is damaged"), string.Join('\n', host.Logs.All));
        using (var ready = await host.Client.GetAsync("/health/ready"))
        {
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, body);
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
            Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
            Assert.Contains("integrity_check", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "refused.pdf");
        await Api.AssertProblemAsync(upload, 503, "catalog_unavailable");
        using var backup = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null);
        await Api.AssertProblemAsync(backup, 409, "backup_refused");
    }

    /// <summary>The first column of the first row (for wal_checkpoint: 0 when it was not blocked).</summary>
    private static long Scalar(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
