using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Suite.Testing;
using Xunit.Abstractions;

namespace IngestService.Tests;

/// <summary>
/// SIGTERM to the real IngestService process: readiness turns 503 at once while liveness stays 200, requests that
/// arrive are refused with 503 shutting_down (Retry-After) during the drain window, an upload in flight finishes and is
/// kept, and the process exits 0 with its catalog checkpointed (no -wal left) and no temp file behind.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ExitPatience = TimeSpan.FromSeconds(40);
    private RedisServer _redis = null!;
    private string _root = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _root = Directory.CreateTempSubdirectory("ingest-shutdown-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    [Trait("Req", "SD-1")]
    [Trait("Req", "SD-4")]
    public async Task Sigterm_during_an_upload_drains_refuses_new_requests_finishes_the_upload_and_exits_0_with_the_catalog_flushed()
    {
        const int drainSeconds = 2;
        var pdf = TricklingUpload.PaddedPdf(Api.MinimalPdf, 6 * 1024 * 1024);
        string id;
        await using (var ingest = await IngestProcess.StartAsync(_root, _redis.ConnectionString, Drain(drainSeconds)))
        {
            using var uploader = ingest.NewClient();
            using var upload = new TricklingUpload(pdf, "slow.pdf", 64 * 1024, TimeSpan.FromMilliseconds(40), signalAfterShare: 0.25);
            var uploading = uploader.PostAsync(new Uri("/api/documents", UriKind.Relative), upload);
            await upload.Sent.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(uploading.IsCompleted, "the upload is still in flight when SIGTERM is sent");

            var sinceSigterm = Stopwatch.StartNew();
            await ingest.TerminateAsync();

            using (var probe = ingest.NewClient(TimeSpan.FromSeconds(5)))
            {
                await Eventually.UntilAsync(async () =>
                {
                    using var ready = await probe.GetAsync(new Uri("/health/ready", UriKind.Relative));
                    return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
                }, TimeSpan.FromSeconds(10), "readiness turns 503 after SIGTERM", TimeSpan.FromMilliseconds(20));
                using var live = await probe.GetAsync(new Uri("/health/live", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            // A request from a new caller: refused with a problem while the server drains; only after the drain window
            // may the connection itself be refused.
            using (var newcomer = ingest.NewClient(TimeSpan.FromSeconds(10)))
            {
                try
                {
                    using var refused = await newcomer.GetAsync(new Uri("/api/documents", UriKind.Relative));
                    await AssertShuttingDownAsync(refused);
                    output.WriteLine($"a new request {sinceSigterm.Elapsed.TotalSeconds:F2} s after SIGTERM: 503 shutting_down");
                }
                catch (HttpRequestException ex)
                {
                    output.WriteLine($"a new request {sinceSigterm.Elapsed.TotalSeconds:F2} s after SIGTERM: connection refused");
                    Assert.True(sinceSigterm.Elapsed >= TimeSpan.FromSeconds(drainSeconds),
                        $"the connection was refused {sinceSigterm.Elapsed.TotalSeconds:F1} s after SIGTERM, inside the {drainSeconds} s drain window: {ex.Message}");
                }
            }

            using (var accepted = await uploading.WaitAsync(TimeSpan.FromSeconds(30)))
            {
                var body = await accepted.Content.ReadAsStringAsync();
                Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"the upload in flight answered {(int)accepted.StatusCode}: {body}");
                id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            }

            output.WriteLine($"the upload in flight answered 202 {sinceSigterm.Elapsed.TotalSeconds:F2} s after SIGTERM");
            Assert.Equal(0, await ingest.WaitForExitAsync(ExitPatience));
            output.WriteLine($"exit code 0 {sinceSigterm.Elapsed.TotalSeconds:F2} s after SIGTERM");
            Assert.True(sinceSigterm.Elapsed < TimeSpan.FromSeconds(25), $"the stop took {sinceSigterm.Elapsed.TotalSeconds:F1} s, over Shutdown:TimeoutSeconds");

            // The stop is logged in order, and cleans up only after the server let the upload finish.
            var draining = ingest.LineOf("Shutdown: draining for 2 s");
            var flushed = ingest.LineOf("Shutdown: database catalog");
            var tempRemoved = ingest.LineOf("Shutdown: removed");
            Assert.True(draining >= 0 && flushed > draining && tempRemoved > draining, ingest.Output);
            Assert.Contains("checkpointed", ingest.Lines[flushed], StringComparison.Ordinal);
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
        var wal = new FileInfo(Path.Combine(_root, "catalog.db-wal"));
        Assert.True(!wal.Exists || wal.Length == 0, $"catalog.db-wal has {(wal.Exists ? wal.Length : 0)} bytes after the stop");
        Assert.Equal(pdf.Length, new FileInfo(Path.Combine(_root, "uploads", id + ".pdf")).Length);

        await using (var restarted = await IngestProcess.StartAsync(_root, _redis.ConnectionString, Drain(0)))
        {
            using var client = restarted.NewClient();
            using var document = await client.GetAsync(new Uri($"/api/documents/{id}", UriKind.Relative));
            Assert.True(document.StatusCode == HttpStatusCode.OK, $"after the restart {id} answered {(int)document.StatusCode}");
            await restarted.TerminateAsync();
            Assert.Equal(0, await restarted.WaitForExitAsync(ExitPatience));
        }
    }

    [Fact]
    [Trait("Req", "SD-1")]
    [Trait("Req", "SD-4")]
    public async Task An_upload_that_starts_after_sigterm_is_refused_with_503_shutting_down_and_nothing_is_written()
    {
        // A drain window long enough for the test to send its upload inside it on a busy machine.
        await using var ingest = await IngestProcess.StartAsync(_root, _redis.ConnectionString, Drain(5));
        await ingest.TerminateAsync();
        using (var probe = ingest.NewClient(TimeSpan.FromSeconds(5)))
        {
            await Eventually.UntilAsync(async () =>
            {
                using var ready = await probe.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(10), "readiness turns 503 after SIGTERM", TimeSpan.FromMilliseconds(20));
        }

        using (var uploader = ingest.NewClient(TimeSpan.FromSeconds(10)))
        using (var refused = await Api.UploadAsync(uploader, Api.MinimalPdf, "too-late.pdf"))
        {
            await AssertShuttingDownAsync(refused);
            Assert.Contains("close", refused.Headers.Connection);
        }

        Assert.Equal(0, await ingest.WaitForExitAsync(ExitPatience));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "uploads")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, "tmp")));
        await using var catalog = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_root, "catalog.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await catalog.OpenAsync();
        await using var count = catalog.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM documents;";
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    private static Dictionary<string, string> Drain(int seconds) => new()
    {
        ["Shutdown__DrainSeconds"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task AssertShuttingDownAsync(HttpResponseMessage response)
    {
        var problem = await Api.AssertProblemAsync(response, 503, "shutting_down");
        Assert.True(problem.GetProperty("retryable").GetBoolean());
        Assert.True(response.Headers.RetryAfter?.Delta is { } after && after > TimeSpan.Zero, "Retry-After is set");
    }
}
