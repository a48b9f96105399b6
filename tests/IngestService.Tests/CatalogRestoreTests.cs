using System.Net;
using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The whole corruption story of the catalog (Req SU-2, DB-4): a backup taken through the admin route, the file
/// damaged with the real dd, the service reporting it and leaving it alone, and the restore command, run as a real
/// process of the service's own binary (<c>dotnet IngestService.dll restore-catalog</c>), bringing the backup back;
/// and the command refusing while the service runs on the file, or when the backup itself is damaged.
/// </summary>
public sealed class CatalogRestoreTests : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);
    private static readonly Dictionary<string, string?> OnDemandOnly = new() { ["Catalog:Backups:Enabled"] = "false" };
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "SU-2")]
    [Trait("Req", "DB-4")]
    [Trait("Req", "DB-2")]
    public async Task A_catalog_damaged_by_dd_is_reported_left_alone_and_restored_from_its_backup_by_the_restore_command()
    {
        var root = Directory.CreateTempSubdirectory("ingest-restore-").FullName;
        var catalog = CatalogFiles.CatalogPath(root);
        try
        {
            // A service with documents and a backup of them; one more document after the backup.
            var backedUp = new List<string>();
            string late;
            // Stopped, not disposed: disposing a host deletes its storage root.
            var first = IngestHost.Create(_redis.ConnectionString, OnDemandOnly, root).Start();
            try
            {
                for (var i = 0; i < 5; i++)
                {
                    backedUp.Add(await Api.UploadOkAsync(first.Client, Api.MinimalPdf, $"kept-{i}.pdf"));
                }

                using var backup = await first.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null);
                Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
                var answer = await Api.JsonAsync(backup);
                var file = Path.Combine(CatalogFiles.BackupsDir(root), answer.GetProperty("file").GetString()!);
                Assert.Equal(new FileInfo(file).Length, answer.GetProperty("sizeBytes").GetInt64());
                late = await Api.UploadOkAsync(first.Client, Api.MinimalPdf, "after-the-backup.pdf");
            }
            finally
            {
                await first.StopKeepingRootAsync();
            }

            // The seed's recipe, on the first page: the header and the schema are gone.
            await ProcessRun.DdAsync(catalog, "/dev/urandom", blockSize: 1, count: 4096, seek: 0);
            var damaged = CatalogFiles.Sha256(catalog);

            var broken = IngestHost.Create(_redis.ConnectionString, OnDemandOnly, root).Start();
            try
            {
                Assert.True(broken.Logs.Any(LogLevel.Critical, "unavailable"), "start-up logs the damage as Critical:\n" + string.Join('\n', broken.Logs.All));
                using var ready = await broken.Client.GetAsync("/health/ready");
                var body = await ready.Content.ReadAsStringAsync();
                Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, body);
                var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
                Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
                Assert.Contains("restore", check.GetProperty("description").GetString(), StringComparison.OrdinalIgnoreCase);

                using var upload = await Api.UploadAsync(broken.Client, Api.MinimalPdf, "refused.pdf");
                await Api.AssertProblemAsync(upload, 503, "catalog_unavailable");
                using var get = await broken.Client.GetAsync($"/api/documents/{backedUp[0]}");
                await Api.AssertProblemAsync(get, 503, "catalog_unavailable");
                // Nothing good to copy: no backup of a damaged catalog.
                using var refusedBackup = await broken.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null);
                await Api.AssertProblemAsync(refusedBackup, 409, "backup_refused");
                Assert.Equal(damaged, CatalogFiles.Sha256(catalog));
            }
            finally
            {
                await broken.StopKeepingRootAsync();
            }

            Assert.Equal(damaged, CatalogFiles.Sha256(catalog));

            var restore = await ProcessRun.ServiceAsync("IngestService", ["restore-catalog", "--storage-root", root], CommandTimeout);
            Assert.True(restore.ExitCode == 0, restore.ToString());
            Assert.Contains("restored " + catalog, restore.Output, StringComparison.Ordinal);
            var aside = Assert.Single(Directory.GetFiles(root, "catalog.db.damaged-*"));
            Assert.Equal(damaged, CatalogFiles.Sha256(aside));
            Assert.Equal("ok", await CatalogFiles.QuickCheckAsync(catalog));
            Assert.Empty(Directory.GetFiles(root, ".catalog.db.restore-*"));

            await using var restored = IngestHost.Create(_redis.ConnectionString, OnDemandOnly, root).Start();
            await Eventually.UntilAsync(async () =>
            {
                using var ready = await restored.Client.GetAsync("/health/ready");
                return ready.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(30), "the service on the restored catalog is ready");
            foreach (var id in backedUp)
            {
                using var get = await restored.Client.GetAsync($"/api/documents/{id}");
                Assert.True(get.StatusCode == HttpStatusCode.OK, $"{id}: {(int)get.StatusCode} {await get.Content.ReadAsStringAsync()}");
            }

            // The backup is the point restored to: a document uploaded after it is not in the catalog.
            using var lateGet = await restored.Client.GetAsync($"/api/documents/{late}");
            await Api.AssertProblemAsync(lateGet, 404, "document_not_found");
        }
        finally
        {
            DeleteQuietly(root);
        }
    }

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task The_restore_command_refuses_while_the_service_runs_on_the_catalog_and_changes_nothing()
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, OnDemandOnly).Start();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "in-use.pdf");
        using (var backup = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null))
        {
            Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
        }

        var filesBefore = AllFiles(host.Root);
        var refused = await ProcessRun.ServiceAsync("IngestService", ["restore-catalog", "--storage-root", host.Root], CommandTimeout);

        Assert.True(refused.ExitCode == RestoreExitCodes.DatabaseInUse, refused.ToString());
        Assert.Contains("a service is running", refused.Error, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", refused.Error, StringComparison.Ordinal);
        Assert.Equal(filesBefore, AllFiles(host.Root));
        using (var get = await host.Client.GetAsync($"/api/documents/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        // It was the running service that stopped it: once stopped, the same command restores.
        await host.StopKeepingRootAsync();
        var restore = await ProcessRun.ServiceAsync("IngestService", ["restore-catalog", "--storage-root", host.Root], CommandTimeout);
        Assert.True(restore.ExitCode == 0, restore.ToString());
    }

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task The_restore_command_refuses_a_damaged_backup_and_changes_nothing()
    {
        var root = Directory.CreateTempSubdirectory("ingest-restore-bad-").FullName;
        try
        {
            var host = IngestHost.Create(_redis.ConnectionString, OnDemandOnly, root).Start();
            try
            {
                await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "a.pdf");
                using var backup = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null);
                Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
            }
            finally
            {
                await host.StopKeepingRootAsync();
            }

            var newest = CatalogFiles.Backups(root)[^1];
            await ProcessRun.DdAsync(newest, "/dev/urandom", blockSize: 1, count: 4096, seek: 0);
            var catalogBefore = CatalogFiles.Sha256(CatalogFiles.CatalogPath(root));
            var filesBefore = AllFiles(root);

            // Via the configuration, as the service reads it (Storage__Root), not the flag.
            var refused = await ProcessRun.ServiceAsync("IngestService", ["restore-catalog"], CommandTimeout,
                new Dictionary<string, string?> { ["Storage__Root"] = root });

            Assert.True(refused.ExitCode == RestoreExitCodes.BackupUnusable, refused.ToString());
            Assert.Contains("failed PRAGMA quick_check", refused.Error, StringComparison.Ordinal);
            Assert.Contains(newest, refused.Error, StringComparison.Ordinal);
            Assert.Equal(catalogBefore, CatalogFiles.Sha256(CatalogFiles.CatalogPath(root)));
            Assert.Equal(filesBefore, AllFiles(root));
        }
        finally
        {
            DeleteQuietly(root);
        }
    }

    /// <summary>Every file under the root except the lock file (which the command may create), as relative paths.</summary>
    /// <summary>
    /// The files under the root, but the lock file and the catalog's -wal/-shm: the stopped in-process host's last
    /// pooled connection may still be closed meanwhile (connection pools are per process), and that removes them; the
    /// catalog's own bytes are compared by hash.
    /// </summary>
    private static List<string> AllFiles(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => f is not ("catalog.db.lock" or "catalog.db-wal" or "catalog.db-shm"))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static void DeleteQuietly(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
