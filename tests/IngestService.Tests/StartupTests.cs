using System.Net;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>Start-up checks: the storage root must be writable; a damaged catalog makes the service not ready.</summary>
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
    public async Task A_storage_root_that_cannot_be_created_stops_start_up_with_a_message_naming_the_setting()
    {
        var file = Path.GetTempFileName(); // a file where the root folder should be
        try
        {
            await using var host = IngestHost.Create(_redis.ConnectionString, root: Path.Combine(file, "root"));
            var error = Assert.ThrowsAny<Exception>(() => host.Start());
            Assert.Contains("Storage:Root", Flatten(error), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
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
