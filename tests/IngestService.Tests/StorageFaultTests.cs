using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Suite.Contracts;
using Suite.ServiceDefaults.Data;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The storage root under real faults (real mounts; the tests run as root): a full disk, and a volume that vanishes
/// (an empty file system laid over the root) and comes back. Nothing half-written stays, nothing is written where it
/// would be lost, and the service recovers by itself.
/// </summary>
public sealed class StorageFaultTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: false);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    [Trait("Req", "FS-2")]
    [Trait("Req", "DB-3")]
    public async Task A_full_disk_answers_507_leaves_no_partial_file_keeps_the_catalog_consistent_and_recovers_when_space_is_freed()
    {
        await using var disk = TmpfsMount.Create(sizeMiB: 24);
        var root = Path.Combine(disk.Path, "root");
        // Admission's free-space reserve would refuse uploads before their body is read; off here, so that the writes
        // themselves meet the full disk (the reserve has its own tests).
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Admission:MinFreeDiskBytes"] = "0",
        }, root).Start();
        var before = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "before.pdf");
        var worker = new FakeWorker(host.Client, before);
        await worker.ClaimAsync();

        var filler = disk.Fill();

        using (var small = await Api.UploadAsync(host.Client, Api.MinimalPdf, "small.pdf"))
        {
            var problem = await Api.AssertProblemAsync(small, 507, "insufficient_storage");
            Assert.True(small.Headers.RetryAfter is not null, "507 carries Retry-After");
            Assert.True(problem.GetProperty("retryable").GetBoolean());
        }

        using (var large = await Api.UploadAsync(host.Client, BigPdf(4 << 20), "large.pdf"))
        {
            await Api.AssertProblemAsync(large, 507, "insufficient_storage");
        }

        using (var checkpoint = await PutCheckpointAsync(host.Client, before, worker.Lease, new byte[256 * 1024]))
        {
            await Api.AssertProblemAsync(checkpoint, 507, "insufficient_storage");
        }

        // A database write with no room for its WAL frame: SQLITE_FULL, 507, the transaction rolled back.
        using (var cancel = await host.Client.DeleteAsync($"/api/documents/{before}"))
        {
            await Api.AssertProblemAsync(cancel, 507, "insufficient_storage");
        }

        // Reads still work, and nothing half-written is left anywhere.
        using (var status = await host.Client.GetAsync($"/api/documents/{before}"))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal(DocumentStatus.Processing, (await Api.JsonAsync(status)).GetProperty("status").GetString());
        }

        Assert.Empty(Directory.EnumerateFiles(host.TempDir));
        Assert.Equal([before + ".pdf"], Directory.EnumerateFiles(host.UploadsDir).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "checkpoints"), "*", SearchOption.AllDirectories));
        Assert.Equal(["ok"], IntegrityCheck(host));

        File.Delete(filler);

        // Without a restart: the same requests succeed.
        var after = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "after.pdf");
        using (var checkpoint = await PutCheckpointAsync(host.Client, before, worker.Lease, new byte[256 * 1024]))
        {
            Assert.Equal(HttpStatusCode.NoContent, checkpoint.StatusCode);
        }

        await worker.CompleteAsync();
        using (var result = await host.Client.GetAsync($"/api/documents/{before}/result"))
        {
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/api/documents/{after}")).StatusCode);
        Assert.Equal(["ok"], IntegrityCheck(host));
    }

    [Fact]
    [Trait("Req", "FS-4")]
    [Trait("Req", "FS-1")]
    public async Task A_storage_root_that_vanishes_answers_503_writes_nothing_where_it_would_be_lost_and_recovers_when_it_returns()
    {
        var root = Directory.CreateTempSubdirectory("ingest-vanish-").FullName;
        await using var host = IngestHost.Create(_redis.ConnectionString, root: root).Start();
        var id = await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "kept.pdf");
        var worker = new FakeWorker(host.Client, id);
        await worker.ClaimAsync();
        var checkpoint = new byte[4096];
        Random.Shared.NextBytes(checkpoint);
        using (var put = await PutCheckpointAsync(host.Client, id, worker.Lease, checkpoint))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        await using (TmpfsMount.HideContentsOf(root))
        {
            using (var ready = await host.Client.GetAsync("/health/ready"))
            {
                var body = await ready.Content.ReadAsStringAsync();
                Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, body);
                Assert.Contains("is the volume mounted", body, StringComparison.Ordinal);
            }

            using (var upload = await Api.UploadAsync(host.Client, Api.MinimalPdf, "while-gone.pdf"))
            {
                var problem = await Api.AssertProblemAsync(upload, 503, "storage_unavailable");
                Assert.Contains(root, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }

            // The worker's calls fail transiently (503), so it retries later; the checkpoint is not taken for damaged.
            using (var save = await PutCheckpointAsync(host.Client, id, worker.Lease, checkpoint, PipelineStageNames.Extract))
            {
                await Api.AssertProblemAsync(save, 503, "storage_unavailable");
            }

            using (var read = await host.Client.GetAsync(InternalApi.Checkpoint(id, PipelineStageNames.Validate)))
            {
                await Api.AssertProblemAsync(read, 503, "storage_unavailable");
            }

            using (var file = await host.Client.GetAsync(InternalApi.Content(id)))
            {
                await Api.AssertProblemAsync(file, 503, "storage_unavailable");
            }

            // Nor a backup: there is nothing to copy, and its folder would be created in the wrong place.
            using (var backup = await host.Client.PostAsync(SqliteAdminEndpoints.BackupRoute("catalog"), null))
            {
                await Api.AssertProblemAsync(backup, 409, "backup_refused");
            }

            // Nothing was written into the empty file system, where it would vanish when the volume returns.
            Assert.Empty(Directory.EnumerateFileSystemEntries(root));
        }

        await Eventually.UntilAsync(async () =>
        {
            using var ready = await host.Client.GetAsync("/health/ready");
            return ready.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "ready again once the storage root is back");

        using (var read = await host.Client.GetAsync(InternalApi.Checkpoint(id, PipelineStageNames.Validate)))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(checkpoint, await read.Content.ReadAsByteArrayAsync());
        }

        using (var save = await PutCheckpointAsync(host.Client, id, worker.Lease, checkpoint, PipelineStageNames.Extract))
        {
            Assert.Equal(HttpStatusCode.NoContent, save.StatusCode);
        }

        await worker.CompleteAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/api/documents/{id}/result")).StatusCode);
        await Api.UploadOkAsync(host.Client, Api.MinimalPdf, "after.pdf");
    }

    private static async Task<HttpResponseMessage> PutCheckpointAsync(HttpClient client, string id, long lease, byte[] payload, string stage = PipelineStageNames.Validate)
    {
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Checkpoint(id, stage), lease, new ByteArrayContent(payload));
        return await client.SendAsync(request);
    }

    /// <summary>A valid PDF padded with a comment to about <paramref name="size"/> bytes.</summary>
    private static byte[] BigPdf(int size)
    {
        var pdf = Api.MinimalPdf;
        var big = new byte[size];
        pdf.CopyTo(big, 0);
        big.AsSpan(pdf.Length).Fill((byte)'%');
        return big;
    }

    private static List<string> IntegrityCheck(IngestHost host)
    {
        using var connection = host.OpenCatalog();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        using var reader = command.ExecuteReader();
        var messages = new List<string>();
        while (reader.Read())
        {
            messages.Add(reader.GetString(0));
        }

        return messages;
    }
}
