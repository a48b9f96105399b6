using System.Net;
using Microsoft.Data.Sqlite;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Start-up checks: an invalid setting stops start-up naming its key; a storage root that cannot be written, or a
/// damaged catalog, keeps the service live and not ready, saying why (the storage step is retried until it works).
/// </summary>
public sealed class StartupTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "DB-2")]
    public async Task A_corrupt_catalog_makes_the_service_not_ready_and_refuses_writes_without_touching_the_file()
    {
        var root = Directory.CreateTempSubdirectory("ingest-corrupt-").FullName;
        var garbage = new byte[16 * 1024];
        Random.Shared.NextBytes(garbage);
        var catalogPath = Path.Combine(root, "catalog.db");
        await File.WriteAllBytesAsync(catalogPath, garbage);

        await using var host = IngestHost.Create(_redis.ConnectionString, root: root).Start();

        using var ready = await host.Client.GetAsync("/health/ready");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var catalog = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("catalog");
        Assert.True(catalog.GetProperty("status").GetString() == "Unhealthy", body);
        Assert.Contains("catalog", catalog.GetProperty("description").GetString(), StringComparison.OrdinalIgnoreCase);

        using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "a.pdf");
        var problem = await Api.AssertProblemAsync(upload, 503, "catalog_unavailable");
        Assert.True(problem.GetProperty("retryable").GetBoolean());

        using var get = await host.Client.GetAsync("/api/documents/0123456789abcdef0123456789abcdef");
        await Api.AssertProblemAsync(get, 503, "catalog_unavailable");

        Assert.Equal(garbage, await File.ReadAllBytesAsync(catalogPath));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "uploads")));
    }

    [Fact]
    [Trait("Req", "SU-3")]
    public async Task A_storage_root_that_cannot_be_created_keeps_the_service_live_and_not_ready_with_a_reason_naming_the_setting_and_the_path()
    {
        var file = Path.GetTempFileName(); // a file where the root folder should be
        var root = Path.Combine(file, "root");
        try
        {
            await using var host = IngestHost.Create(_redis.ConnectionString, FastStartupRetries, root: root).Start(waitForStartup: false);

            var startup = await NotReadyAtStorageStepAsync(host.Client);
            Assert.Contains("Storage:Root", startup, StringComparison.Ordinal);
            Assert.Contains(root, startup, StringComparison.Ordinal);
            using (var live = await host.Client.GetAsync("/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            using var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "a.pdf");
            var problem = await Api.AssertProblemAsync(upload, 503, "storage_unavailable");
            Assert.True(problem.GetProperty("retryable").GetBoolean());
            Assert.DoesNotContain(root, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            using var list = await host.Client.GetAsync("/api/documents");
            await Api.AssertProblemAsync(list, 503, "storage_unavailable");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    [Trait("Req", "SU-3")]
    [Trait("Req", "SU-5")]
    public async Task A_storage_root_on_a_read_only_mount_keeps_the_service_live_over_http_and_not_ready_until_the_mount_turns_writable_then_start_up_goes_on_by_itself()
    {
        var mount = TmpfsMount.CreateReadOnly(sizeMiB: 16);
        try
        {
            var root = Path.Combine(mount.Path, "storage");
            // The small mount is far below the free-space reserve kept for accepted documents.
            var settings = new Dictionary<string, string?>(FastStartupRetries) { ["Admission:MinFreeDiskBytes"] = "0" };
            await using var host = IngestHost.Create(_redis.ConnectionString, settings, root: root, kestrel: true).Start(waitForStartup: false);

            // Real sockets: liveness answers while the storage step keeps failing, readiness says why.
            var startup = await NotReadyAtStorageStepAsync(host.Client);
            Assert.Contains("Storage:Root", startup, StringComparison.Ordinal);
            Assert.Contains(root, startup, StringComparison.Ordinal);
            Assert.Contains("Read-only file system", startup, StringComparison.Ordinal);
            using (var live = await host.Client.GetAsync("/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            using (var refused = await Api.UploadAsync(host.Client, Api.MinimalPdf, "early.pdf"))
            {
                await Api.AssertProblemAsync(refused, 503, "storage_unavailable");
            }

            mount.RemountWritable();

            await Eventually.UntilAsync(async () =>
            {
                using var ready = await host.Client.GetAsync("/health/ready");
                return ready.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(30), "the service becomes ready by itself once the storage root is writable");
            var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "late.pdf");
            Assert.True(File.Exists(Path.Combine(root, "uploads", id + ".pdf")));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            await mount.DisposeAsync();
        }
    }

    [Fact]
    public async Task Invalid_limits_stop_start_up_with_a_message_naming_the_setting()
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Ingest:MaxPageSize"] = "10",
            ["Ingest:DefaultPageSize"] = "50",
        });
        var error = Assert.ThrowsAny<Exception>(() => host.Start());
        Assert.Contains("Ingest:DefaultPageSize", Flatten(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Storage:Root", "")]
    [InlineData("Shutdown:DrainSeconds", "-1")]
    [InlineData("Startup:RetryDelayMs", "0")]
    [Trait("Req", "SU-3")]
    public async Task An_invalid_setting_still_stops_start_up_with_a_message_naming_its_key(string key, string value)
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<Exception>(() => host.Start());
        Assert.Contains(key, Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "SU-5")]
    public async Task The_real_process_logs_each_start_up_step_in_order_then_ready()
    {
        var root = Directory.CreateTempSubdirectory("ingest-startup-log-").FullName;
        try
        {
            await using var ingest = await IngestProcess.StartAsync(root, _redis.ConnectionString);
            await Eventually.UntilAsync(() => ingest.LineOf("Start-up: ready after") >= 0, TimeSpan.FromSeconds(30), "start-up logs ready");

            string[] inOrder =
            [
                "Start-up: options validated",
                "Start-up step checking storage: done",
                "Start-up step opening the catalog: done",
                "Start-up step sweeping artifact temp files: done",
                "Start-up: ready after",
            ];
            var lines = inOrder.Select(ingest.LineOf).ToList();
            Assert.True(lines.All(l => l >= 0) && lines.SequenceEqual(lines.Order()), $"{string.Join(", ", lines)}\n{ingest.Output}");
            var redis = ingest.LineOf("Start-up step connecting to Redis: done");
            Assert.True(redis >= 0 && redis < lines[^1], ingest.Output);

            await ingest.TerminateAsync();
            Assert.Equal(0, await ingest.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Orphaned_temp_files_from_a_crash_are_removed_at_start_up()
    {
        var root = Directory.CreateTempSubdirectory("ingest-orphans-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "tmp"));
        Directory.CreateDirectory(Path.Combine(root, "checkpoints", "0123456789abcdef0123456789abcdef"));
        var orphanUpload = Path.Combine(root, "tmp", "crashed.part");
        var orphanCheckpoint = Path.Combine(root, "checkpoints", "0123456789abcdef0123456789abcdef", ".extract.ckpt.abc.tmp");
        await File.WriteAllTextAsync(orphanUpload, "partial");
        await File.WriteAllTextAsync(orphanCheckpoint, "partial");

        await using var host = IngestHost.Create(_redis.ConnectionString, root: root).Start();

        Assert.False(File.Exists(orphanUpload));
        Assert.False(File.Exists(orphanCheckpoint));
    }

    /// <summary>Start-up retries every 100 ms to 1 s, so a test sees start-up go on soon after the cause is gone.</summary>
    private static readonly Dictionary<string, string?> FastStartupRetries = new()
    {
        ["Startup:RetryDelayMs"] = "100",
        ["Startup:MaxRetryDelaySeconds"] = "1",
    };

    /// <summary>Waits until readiness is 503 with the storage step's failed attempt in it; returns the startup check's description.</summary>
    private static async Task<string> NotReadyAtStorageStepAsync(HttpClient client)
    {
        var description = "";
        await Eventually.UntilAsync(async () =>
        {
            using var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var startup = (await Api.JsonAsync(ready)).GetProperty("checks").GetProperty("startup");
            Assert.Equal("Unhealthy", startup.GetProperty("status").GetString());
            description = startup.GetProperty("description").GetString() ?? "";
            return description.Contains("checking storage (attempt", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "readiness names the storage step and why its last attempt failed");
        return description;
    }

    private static string Flatten(Exception error)
    {
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                messages.AddRange(aggregate.InnerExceptions.Select(Flatten));
            }
        }

        return string.Join(" / ", messages);
    }
}
