using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Periodic online backups of the catalog (Req DB-4) by the real service in-process, on a real SQLite file, with a
/// backup every second: what they hold, how many are kept, that no temp file is ever left, and that a backup taken
/// while uploads write is a consistent snapshot. Backup files are checked from outside, by the sqlite3 shell.
/// </summary>
// Its metric assertions read the process-wide meters, which every host started in parallel would also feed.
[Collection(TelemetryCollection.Name)]
public sealed class CatalogBackupTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static Dictionary<string, string?> EverySecond(int retain) => new()
    {
        ["Catalog:Backups:IntervalSeconds"] = "1",
        ["Catalog:Backups:FirstBackupDelaySeconds"] = "0",
        ["Catalog:Backups:Retain"] = retain.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task Periodic_backups_hold_the_documents_uploaded_before_them_only_the_newest_are_kept_and_no_temp_file_is_left()
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, EverySecond(retain: 3)).Start();
        var backups = host.Services.GetRequiredKeyedService<SqliteBackups>("catalog");
        var uploaded = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            uploaded.Add(await Api.UploadOkAsync(host.Client, Api.MinimalPdf, $"doc-{i}.pdf"));
        }

        // Three more backups than are kept, all started after the uploads were committed.
        var after = backups.Status.Successes;
        await Eventually.UntilAsync(() => backups.Status.Successes >= after + 5, Wait, "five backups after the uploads");

        using (var ready = await host.Client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("backups");
            Assert.Equal("Healthy", check.GetProperty("status").GetString());
            Assert.StartsWith("catalog-", check.GetProperty("data").GetProperty("catalog.lastBackupFile").GetString(), StringComparison.Ordinal);
        }

        using (var metrics = await host.Client.GetAsync("/metrics"))
        {
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains(text.Split('\n'), l => l.StartsWith("suite_db_backups_total{", StringComparison.Ordinal)
                                                   && l.Contains("db=\"catalog\"", StringComparison.Ordinal)
                                                   && l.Contains("outcome=\"success\"", StringComparison.Ordinal));
            Assert.Contains(text.Split('\n'), l => l.StartsWith("suite_db_backup_age_seconds{", StringComparison.Ordinal)
                                                   && l.Contains("db=\"catalog\"", StringComparison.Ordinal));
        }

        // Stopping waits for a backup in progress (copy, rename, prune), so the folder is final after it.
        await host.StopKeepingRootAsync();

        var kept = CatalogFiles.Backups(host.Root);
        Assert.Equal(3, kept.Count);
        Assert.Empty(CatalogFiles.Leftovers(host.Root));
        foreach (var backup in kept)
        {
            Assert.Equal("ok", await CatalogFiles.QuickCheckAsync(backup));
            Assert.Equal("delete", await CatalogFiles.QueryAsync(backup, "PRAGMA journal_mode;"));
            Assert.Superset(uploaded.ToHashSet(StringComparer.Ordinal), await CatalogFiles.DocumentIdsAsync(backup));
        }
    }

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task A_backup_taken_while_uploads_are_written_is_a_consistent_snapshot()
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, EverySecond(retain: 100)).Start();
        var backups = host.Services.GetRequiredKeyedService<SqliteBackups>("catalog");

        // Four uploaders write until three backups were taken during the uploads (bounded in time and count).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var before = backups.Status.Successes;
        var uploaded = 0;
        async Task UploadUntilStopped()
        {
            while (!stop.IsCancellationRequested && Volatile.Read(ref uploaded) < 2000)
            {
                await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "concurrent.pdf");
                Interlocked.Increment(ref uploaded);
                if (backups.Status.Successes >= before + 3)
                {
                    await stop.CancelAsync();
                }
            }
        }

        var uploaders = Enumerable.Range(0, 4).Select(_ => Task.Run(UploadUntilStopped)).ToList();
        // One backup on demand in the middle of it too.
        using (var onDemand = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null))
        {
            Assert.Equal(HttpStatusCode.OK, onDemand.StatusCode);
        }

        await Task.WhenAll(uploaders);
        Assert.True(backups.Status.Successes >= before + 3, $"only {backups.Status.Successes - before} backups were taken during {uploaded} uploads");
        await host.StopKeepingRootAsync();

        var total = (await CatalogFiles.DocumentIdsAsync(CatalogFiles.CatalogPath(host.Root))).Count;
        Assert.Equal(uploaded, total);
        var counts = new List<int>();
        foreach (var backup in CatalogFiles.Backups(host.Root))
        {
            Assert.Equal("ok", await CatalogFiles.QuickCheckAsync(backup));
            // Each upload inserts its document and its 'accepted' history entry in one transaction: a snapshot never has one without the other.
            Assert.Equal("0", await CatalogFiles.QueryAsync(backup,
                "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_events e WHERE e.document_id = d.id AND e.kind = 'accepted');"));
            Assert.Equal("0", await CatalogFiles.QueryAsync(backup,
                "SELECT count(*) FROM document_events e WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = e.document_id);"));
            counts.Add(int.Parse(await CatalogFiles.QueryAsync(backup, "SELECT count(*) FROM documents;"), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Empty(CatalogFiles.Leftovers(host.Root));
        Assert.Equal(counts.Order(), counts);
        Assert.Contains(counts, c => c > 0 && c < total);
    }

    [Fact]
    [Trait("Req", "DB-4")]
    public async Task Backups_that_cannot_be_written_are_logged_counted_and_retried_and_never_disturb_the_service()
    {
        // A backup folder under a regular file can never be created, whoever runs the test (root included).
        var blocker = Path.GetTempFileName();
        try
        {
            var settings = EverySecond(retain: 3);
            settings["Catalog:Backups:Folder"] = Path.Combine(blocker, "backups");
            await using var host = IngestHost.Create(_redis.ConnectionString, settings).Start();
            var backups = host.Services.GetRequiredKeyedService<SqliteBackups>("catalog");

            await Eventually.UntilAsync(() => backups.Status.Failures >= 3, Wait, "three failed backups, one each interval");
            Assert.True(host.Logs.Any(LogLevel.Error, "Backup of the catalog database"), string.Join('\n', host.Logs.All));

            // Two intervals without a good backup: Degraded, and still ready (200) with the reason.
            await Eventually.UntilAsync(async () =>
            {
                using var ready = await host.Client.GetAsync("/health/ready");
                var json = await Api.JsonAsync(ready);
                return ready.StatusCode == HttpStatusCode.OK
                       && json.GetProperty("checks").GetProperty("backups").GetProperty("status").GetString() == "Degraded"
                       && json.GetProperty("checks").GetProperty("backups").GetProperty("data").TryGetProperty("catalog.lastError", out _);
            }, Wait, "readiness is 200 with the backups check Degraded and the last error");

            await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "still-served.pdf");
            using var onDemand = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null);
            await Api.AssertProblemAsync(onDemand, 500, "backup_failed");

            using var metrics = await host.Client.GetAsync("/metrics");
            Assert.Contains((await metrics.Content.ReadAsStringAsync()).Split('\n'),
                l => l.StartsWith("suite_db_backups_total{", StringComparison.Ordinal) && l.Contains("outcome=\"failure\"", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    [Trait("Req", "SU-1")]
    public async Task Invalid_backup_settings_stop_start_up_naming_the_setting()
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?> { ["Catalog:Backups:Retain"] = "0" });

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        Assert.Contains("Catalog:Backups:Retain", error.ToString(), StringComparison.Ordinal);
    }
}
