using System.Net;
using IngestService.Catalog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Suite.ServiceDefaults.Resilience;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Read-only mode of the catalog (Req CB-5) on real storage: a tmpfs that is remounted read-only under the running
/// service, then writable again.
/// <para>
/// What SQLite and Linux do there, found by experiment (sqlite3 3.40 and Microsoft.Data.Sqlite's e_sqlite3 alike):
/// <list type="bullet">
/// <item>Linux refuses <c>mount -o remount,ro</c> (EBUSY) while any file on the mount is open for writing, and every
/// SQLite connection holds the database, its -wal and -shm open read-write. So no existing connection ever sees the
/// file system turn read-only: the remount only succeeds once every connection is closed (the test clears the pools
/// and retries until the service has none open).</item>
/// <item>When the last connection closes, SQLite normally deletes -wal and -shm; on the read-only mount a WAL
/// database then cannot be opened at all, not even with mode=ro: every read fails with SQLITE_CANTOPEN (14).</item>
/// <item>With the -wal and -shm kept (SQLITE_FCNTL_PERSIST_WAL, which the access layer sets), new connections open the
/// file read-only by themselves (SQLite falls back when read-write is refused), reads work, and writes fail with
/// SQLITE_READONLY (8): the failures that open the write breaker.</item>
/// <item>A connection opened during that time stays read-only after the remount to read-write; the layer drops such
/// handles before a write, so the probe write after the break succeeds.</item>
/// </list>
/// </para>
/// </summary>
public sealed class CatalogReadOnlyModeTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private TmpfsMount _storage = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _storage = TmpfsMount.Create(sizeMiB: 32);
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    [Trait("Req", "CB-5")]
    public async Task Storage_turning_read_only_puts_the_catalog_in_read_only_mode_where_reads_work_and_writes_get_503_until_it_is_writable_again()
    {
        await using var host = IngestHost.Create(
            _redis.ConnectionString,
            new Dictionary<string, string?>
            {
                ["Admission:MinFreeDiskBytes"] = "0",
                ["Catalog:WriteBreaker:MinimumThroughput"] = "2",
                ["Catalog:WriteBreaker:BreakDurationSeconds"] = "8",
            },
            root: _storage.Path).Start();
        var states = host.Services.GetRequiredService<CircuitBreakerStates>();
        var catalog = host.Services.GetRequiredService<CatalogDb>();
        var first = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "first.pdf");
        var second = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "second.pdf");
        Assert.Equal(BreakerState.Closed, states.StateOf("catalog-writes"));

        await _storage.RemountReadOnlyAsync(SqliteConnection.ClearAllPools, TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(Path.Combine(_storage.Path, "catalog.db-wal")) && File.Exists(Path.Combine(_storage.Path, "catalog.db-shm")),
            "the -wal and -shm files outlived the connections");

        // Writes fail (SQLITE_READONLY) until the breaker opens; then they are refused at once.
        HttpResponseMessage? cancel = null;
        await Eventually.UntilAsync(async () =>
        {
            cancel?.Dispose();
            cancel = await host.Client.DeleteAsync(new Uri($"/api/documents/{first}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, cancel.StatusCode);
            return (await Api.JsonAsync(cancel)).GetProperty("code").GetString() == "catalog_read_only";
        }, TimeSpan.FromSeconds(20), "a write is refused with catalog_read_only");
        using (cancel)
        {
            var problem = await Api.AssertProblemAsync(cancel!, 503, "catalog_read_only");
            Assert.Contains("read-only mode because writes failed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("readonly", problem.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
            Assert.True(cancel!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After is sent");
        }

        Assert.Equal(BreakerState.Open, states.StateOf("catalog-writes"));
        Assert.NotNull(catalog.Database.ReadOnly);

        // Reads go on.
        using (var get = await host.Client.GetAsync(new Uri($"/api/documents/{second}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        using (var list = await host.Client.GetAsync(new Uri("/api/documents?limit=10", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Equal(2, (await Api.JsonAsync(list)).GetProperty("items").GetArrayLength());
        }

        // An upload is refused before its body is read: nothing reaches the (read-only) temp folder.
        using (var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "refused.pdf"))
        {
            await Api.AssertProblemAsync(upload, 503, "catalog_read_only");
            Assert.True(upload.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After is sent");
        }

        // Readiness: still ready (reads work), Degraded, saying why.
        using (var ready = await host.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
            Assert.Equal("Degraded", check.GetProperty("status").GetString());
            Assert.Contains("read-only", check.GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.True(check.GetProperty("data").GetProperty("readOnly").GetBoolean());
            Assert.InRange(check.GetProperty("data").GetProperty("retryAfterSeconds").GetInt32(), 1, 8);
        }

        // Writable again: after the break a write probes, succeeds and closes the breaker, without a restart.
        _storage.RemountWritable();
        await Eventually.UntilAsync(async () =>
        {
            using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "after.pdf");
            return upload.StatusCode == HttpStatusCode.Accepted;
        }, TimeSpan.FromSeconds(30), "an upload is accepted again", TimeSpan.FromMilliseconds(500));
        Assert.Equal(BreakerState.Closed, states.StateOf("catalog-writes"));
        Assert.Null(catalog.Database.ReadOnly);
        using (var again = await host.Client.DeleteAsync(new Uri($"/api/documents/{first}", UriKind.Relative)))
        {
            Assert.True(again.IsSuccessStatusCode, $"cancel answered {(int)again.StatusCode}: {await again.Content.ReadAsStringAsync()}");
        }

        using (var ready = await host.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
            Assert.Equal("Healthy", check.GetProperty("status").GetString());
        }
    }

    [Fact]
    [Trait("Req", "CB-5")]
    public async Task A_full_disk_puts_the_catalog_in_read_only_mode_that_answers_507_with_Retry_After_until_space_is_freed()
    {
        await using var host = IngestHost.Create(
            _redis.ConnectionString,
            new Dictionary<string, string?>
            {
                ["Admission:MinFreeDiskBytes"] = "0",
                ["Catalog:WriteBreaker:MinimumThroughput"] = "2",
                ["Catalog:WriteBreaker:BreakDurationSeconds"] = "8",
            },
            root: _storage.Path).Start();
        var catalog = host.Services.GetRequiredService<CatalogDb>();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "full.pdf");

        var filler = _storage.Fill();

        // Cancel and retry the document until its writes hit the full disk (SQLite reuses space in its WAL first) and
        // the breaker opens: from then on every write is refused at once with 507 and Retry-After. The DELETE is sent
        // only while the document is unfinished (a DELETE of a cancelled one would delete it, Req OUT-2).
        var cancelNext = true;
        await Eventually.UntilAsync(async () =>
        {
            using var write = cancelNext
                ? await host.Client.DeleteAsync(new Uri($"/api/documents/{id}", UriKind.Relative))
                : await host.Client.PostAsync(new Uri($"/api/documents/{id}/retry", UriKind.Relative), null);
            Assert.True((int)write.StatusCode is 200 or 202 or 409 or 507, $"{(int)write.StatusCode}: {await write.Content.ReadAsStringAsync()}");
            // Cancelled (200): retry next; queued again (202) or still queued (409 not_retryable): cancel next; 507: the same again.
            cancelNext = write.StatusCode switch
            {
                HttpStatusCode.OK => false,
                HttpStatusCode.Accepted or HttpStatusCode.Conflict => true,
                _ => cancelNext,
            };
            return catalog.Database.ReadOnly is { DiskFull: true };
        }, TimeSpan.FromSeconds(60), "the catalog enters read-only mode because its disk is full", TimeSpan.FromMilliseconds(50));

        using (var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "refused.pdf"))
        {
            await Api.AssertProblemAsync(upload, 507, "insufficient_storage");
            Assert.InRange(upload.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
        }

        using (var ready = await host.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var check = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
            Assert.Equal("Degraded", check.GetProperty("status").GetString());
            Assert.Contains("disk is full", check.GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.True(check.GetProperty("data").GetProperty("diskFull").GetBoolean());
        }

        using (var get = await host.Client.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        File.Delete(filler);
        await Eventually.UntilAsync(async () =>
        {
            using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "after.pdf");
            return upload.StatusCode == HttpStatusCode.Accepted;
        }, TimeSpan.FromSeconds(30), "an upload is accepted once space is freed", TimeSpan.FromMilliseconds(500));
        Assert.Null(catalog.Database.ReadOnly);
    }
}
