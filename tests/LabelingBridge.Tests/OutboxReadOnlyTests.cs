using LabelingBridge.Configuration;
using LabelingBridge.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace LabelingBridge.Tests;

/// <summary>
/// The outbox's read-only mode (Req CB-5) on a real file system: its tmpfs remounted read-only makes writes fail for real
/// (SQLITE_READONLY), the write breaker opens, reads go on; remounted read-write, a probe write closes it.
/// </summary>
public sealed class OutboxReadOnlyTests
{
    [Fact]
    [Trait("Req", "CB-5")]
    public async Task The_outbox_goes_read_only_when_its_storage_does_keeps_reading_and_recovers_by_a_probe_write()
    {
        await using var storage = TmpfsMount.Create(sizeMiB: 16);
        var options = new OutboxOptions { DatabasePath = Path.Combine(storage.Path, "outbox.db") };
        options.WriteBreaker.MinimumThroughput = 2;
        options.WriteBreaker.BreakDurationSeconds = 1;
        var db = new OutboxDb(Options.Create(options), NullLoggerFactory.Instance);
        var outbox = new ExportOutbox(db, TimeProvider.System);
        var (stored, _) = await outbox.EnqueueAsync("doc-1", ExportTriggers.Api, CancellationToken.None);

        // Linux refuses the remount while a connection holds the file open for writing: the pool is cleared first.
        await storage.RemountReadOnlyAsync(SqliteConnection.ClearAllPools, TimeSpan.FromSeconds(10));

        var refusal = await Eventually.ValueAsync<DatabaseReadOnlyException>(async () =>
        {
            try
            {
                await outbox.EnqueueAsync("doc-2", ExportTriggers.Api, CancellationToken.None);
                Assert.Fail("a write succeeded on read-only storage");
                return null;
            }
            catch (DatabaseReadOnlyException ex)
            {
                return ex;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteErrors.ReadOnly)
            {
                return null; // a real failure, counted by the breaker
            }
        }, TimeSpan.FromSeconds(10), "the outbox refuses writes in read-only mode");
        Assert.False(refusal.DiskFull);
        Assert.Contains("readonly", refusal.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.True(refusal.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.NotNull(db.Database.ReadOnly);

        Assert.Equal(stored.Id, Assert.Single(await outbox.ListForDocumentAsync("doc-1", 10, CancellationToken.None)).Id);

        storage.RemountWritable();
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await outbox.EnqueueAsync("doc-2", ExportTriggers.Api, CancellationToken.None);
                return true;
            }
            catch (DatabaseReadOnlyException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "a write succeeds once the storage is writable");
        Assert.Null(db.Database.ReadOnly);
        Assert.Single(await outbox.ListForDocumentAsync("doc-2", 10, CancellationToken.None));
        SqliteConnection.ClearAllPools();
    }
}
