using System.Diagnostics;
using System.Net;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Bounded waits on the catalog (Req TMO-2): another process holding the write lock makes writes give up within the
/// command timeout with 503 catalog_busy, reads go on, and writes work again once the lock is released; timeouts above
/// the bounds stop start-up.
/// </summary>
public sealed class CatalogLockTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "TMO-2")]
    public async Task A_writer_in_another_process_makes_uploads_give_up_in_bounded_time_with_catalog_busy_while_reads_go_on()
    {
        // Defaults: busy_timeout 5 s, command timeout 10 s (the budget of one operation, retries included).
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?> { ["Admission:MinFreeDiskBytes"] = "0" }).Start();
        var before = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "before-the-lock.pdf");

        await using (var holder = await SqliteLockHolder.StartAsync(Path.Combine(host.Root, "catalog.db")))
        {
            var clock = Stopwatch.StartNew();
            using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "during-the-lock.pdf");
            clock.Stop();

            await Api.AssertProblemAsync(upload, 503, "catalog_busy");
            Assert.True(upload.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After is sent");
            // It waited for the lock (not an instant failure) and gave up within the bound: the 10 s budget, which
            // Microsoft.Data.Sqlite's own busy loop counts in whole seconds and can overrun by about one busy wait, plus
            // the request itself on a machine busy with the other test classes (15.2 s seen once under the full run).
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(20));

            // WAL: BEGIN EXCLUSIVE takes only the write lock (in WAL mode it is the same as IMMEDIATE), so readers go on.
            using var status = await host.Client.GetAsync(new Uri($"/api/documents/{before}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.True(holder.StillHoldsLock, "the other process still held the lock during the requests");
        }

        await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "after-the-lock.pdf");
        // The refused upload left nothing behind: only the two accepted files are stored.
        Assert.Equal(2, Directory.EnumerateFiles(host.UploadsDir).Count());
    }

    [Theory]
    [Trait("Req", "TMO-2")]
    [InlineData("Catalog:BusyTimeoutMilliseconds", "60000")]
    [InlineData("Catalog:CommandTimeoutSeconds", "30")]
    [InlineData("Catalog:CommandTimeoutSeconds", "0")]
    [InlineData("Catalog:MaxConnections", "0")]
    public async Task A_catalog_timeout_or_bound_out_of_range_stops_start_up_with_a_message_naming_the_key(string key, string value)
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<Exception>(() => host.Start());
        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The sqlite3 shell in its own process, holding the write lock with BEGIN EXCLUSIVE until disposed (stdin kept open).</summary>
    private sealed class SqliteLockHolder : IAsyncDisposable
    {
        private readonly Process _process;

        private SqliteLockHolder(Process process) => _process = process;

        public bool StillHoldsLock => !_process.HasExited;

        public static async Task<SqliteLockHolder> StartAsync(string database)
        {
            var start = new ProcessStartInfo("/usr/bin/sqlite3")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(database);
            var process = Process.Start(start)!;
            var holder = new SqliteLockHolder(process);
            try
            {
                // The shell waits up to 5 s for the service's own short writes, then answers once it holds the lock.
                await process.StandardInput.WriteLineAsync(".timeout 5000");
                await process.StandardInput.WriteLineAsync("BEGIN EXCLUSIVE;");
                await process.StandardInput.WriteLineAsync("SELECT 'locked';");
                await process.StandardInput.FlushAsync();
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(line == "locked", $"sqlite3 did not take the lock: {line}");
                return holder;
            }
            catch
            {
                await holder.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("ROLLBACK;");
                _process.StandardInput.Close();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill();
                }
            }

            _process.Dispose();
        }
    }
}
