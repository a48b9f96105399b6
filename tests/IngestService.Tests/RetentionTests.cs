using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Retention and deletion on the real service (real SQLite, real files, real redis-server): expired documents are
/// removed whole and answer 410, younger ones stay; DELETE removes a finished document at once and cancels, then
/// removes, an unfinished one; a worker cannot bring a removed document back.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private IngestHost _host = null!;

    private HttpClient Client => _host.Client;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(appendOnly: false);
        _host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            // A pass a second, so an expiry of one second is seen within a bounded poll.
            ["Retention:SweepIntervalSeconds"] = "1",
            ["Retention:Default"] = "1.00:00:00",
            ["Retention:Max"] = "10.00:00:00",
        }).Start();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    [Trait("Req", "FS-3")]
    public async Task Documents_past_their_retention_are_gone_whole_and_younger_ones_are_untouched()
    {
        using var reclaimed = new ReclaimedBytes();
        var old = await UploadAsync("old.pdf", retainFor: "1");
        var young = await UploadAsync("young.pdf", retainFor: "P1D");
        await FinishWithFilesAsync(old);
        await FinishWithFilesAsync(young);
        var oldBytes = FilesOf(old).Sum(SizeOf);
        Assert.True(oldBytes > 0, "the expiring document has files to reclaim");

        await Eventually.UntilAsync(async () =>
        {
            using var response = await Client.GetAsync($"/api/documents/{old}");
            return response.StatusCode == HttpStatusCode.Gone;
        }, TimeSpan.FromSeconds(30), "the expired document answers 410");

        using (var gone = await Client.GetAsync($"/api/documents/{old}"))
        {
            var problem = await Api.AssertProblemAsync(gone, 410, "document_expired");
            Assert.Equal("old.pdf", problem.GetProperty("fileName").GetString());
        }

        foreach (var path in new[] { $"/api/documents/{old}/result", $"/api/documents/{old}/events", $"/api/documents/{old}/pages/1/image" })
        {
            using var response = await Client.GetAsync(path);
            await Api.AssertProblemAsync(response, 410, "document_expired");
        }

        await Eventually.UntilAsync(() => FilesOf(old).All(p => !Exists(p)), TimeSpan.FromSeconds(10), "no file of the expired document is left");
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM progress_events WHERE document_id = @id", old));
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM document_events WHERE document_id = @id", old));
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM checkpoints WHERE document_id = @id", old));
        Assert.Equal(1L, Count("SELECT COUNT(*) FROM tombstones WHERE id = @id AND state = 'deleted' AND bytes_reclaimed = " + oldBytes, old));
        await Eventually.UntilAsync(() => reclaimed.Total >= oldBytes, TimeSpan.FromSeconds(5), "ingest.retention.bytes_reclaimed counts the bytes");

        // The younger document: every file in place, and its detail says when it goes.
        Assert.All(FilesOf(young), p => Assert.True(Exists(p), p + " is still there"));
        using var kept = await Client.GetAsync($"/api/documents/{young}");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        var detail = await Api.JsonAsync(kept);
        Assert.Equal(86400, detail.GetProperty("retainForSeconds").GetInt64());
        Assert.True(detail.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    public async Task Delete_of_a_finished_document_removes_it_at_once()
    {
        var id = await UploadAsync("finished.pdf");
        await FinishWithFilesAsync(id);

        using (var delete = await Client.DeleteAsync($"/api/documents/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.All(FilesOf(id), p => Assert.False(Exists(p), p + " is gone"));
        using (var get = await Client.GetAsync($"/api/documents/{id}"))
        {
            await Api.AssertProblemAsync(get, 410, "document_deleted");
        }

        using (var again = await Client.DeleteAsync($"/api/documents/{id}"))
        {
            await Api.AssertProblemAsync(again, 410, "document_deleted");
        }

        // A redelivered job of it cannot bring it back.
        using var claim = await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("late-worker"));
        Assert.Equal(HttpStatusCode.NotFound, claim.StatusCode);
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    [Trait("Req", "JOB-5")]
    public async Task A_purging_delete_during_processing_cancels_and_deletes_in_one_request()
    {
        var id = await UploadAsync("purged.pdf");
        var worker = new FakeWorker(Client, id);
        var lease = await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await PutCheckpointAsync(id, lease);

        using (var refused = await Client.DeleteAsync($"/api/documents/{id}?purge=yes"))
        {
            await Api.AssertProblemAsync(refused, 400, "invalid_purge");
        }

        using (var get = await Client.GetAsync($"/api/documents/{id}"))
        {
            Assert.Equal(DocumentStatus.Processing, (await Api.JsonAsync(get)).GetProperty("status").GetString());
        }

        using (var delete = await Client.DeleteAsync($"/api/documents/{id}?purge=true"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var get = await Client.GetAsync($"/api/documents/{id}"))
        {
            await Api.AssertProblemAsync(get, 410, "document_deleted");
        }

        Assert.All(FilesOf(id), p => Assert.False(Exists(p), p + " is gone"));
        using (var checkpoint = await PutCheckpointResponseAsync(id, lease))
        {
            Assert.Equal(HttpStatusCode.NotFound, checkpoint.StatusCode);
        }
    }

    [Fact]
    [Trait("Req", "OUT-2")]
    [Trait("Req", "JOB-5")]
    public async Task Delete_during_processing_cancels_and_a_second_delete_deletes_and_the_worker_cannot_resurrect_it()
    {
        var id = await UploadAsync("running.pdf");
        var worker = new FakeWorker(Client, id);
        var lease = await worker.ClaimAsync();
        await worker.StageAsync(PipelineStageNames.Validate, StageStatus.Running);
        await PutCheckpointAsync(id, lease);

        // First the cancel, as DELETE always did: the document stays, cancelled, and says when it would expire.
        using (var delete = await Client.DeleteAsync($"/api/documents/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            var cancelled = await Api.JsonAsync(delete);
            Assert.Equal(DocumentStatus.Cancelled, cancelled.GetProperty("status").GetString());
            Assert.True(cancelled.TryGetProperty("expiresAt", out _), "a cancelled document is finished and expires");
        }

        // The worker learns it at its next renewal and stops.
        using (var renew = await Client.SendAsync(Api.WithLease(HttpMethod.Post, InternalApi.Lease(id), lease)))
        {
            Assert.Equal(HttpStatusCode.OK, renew.StatusCode);
            Assert.Equal(DocumentStatus.Cancelled, (await Api.JsonAsync(renew)).GetProperty("status").GetString());
        }

        // Once cancelled, it is finished: the second DELETE deletes it.
        using (var delete = await Client.DeleteAsync($"/api/documents/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using (var get = await Client.GetAsync($"/api/documents/{id}"))
        {
            await Api.AssertProblemAsync(get, 410, "document_deleted");
        }

        Assert.All(FilesOf(id), p => Assert.False(Exists(p), p + " is gone"));

        // The worker that held it is refused everything: no checkpoint, no result, no new claim.
        using (var checkpoint = await PutCheckpointResponseAsync(id, lease))
        {
            Assert.Equal(HttpStatusCode.NotFound, checkpoint.StatusCode);
        }

        var submission = new ResultSubmission("{\"pages\":[]}", "# late\n", "late\n");
        using (var result = await Client.SendAsync(Api.WithLease(HttpMethod.Put, InternalApi.Result(id), lease, JsonContent.Create(submission))))
        {
            Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
        }

        using (var claim = await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest("other-worker")))
        {
            Assert.Equal(HttpStatusCode.NotFound, claim.StatusCode);
        }

        Assert.False(File.Exists(Path.Combine(_host.Root, "results", id, "result.json")));
        Assert.Equal(0L, Count("SELECT COUNT(*) FROM documents WHERE id = @id", id));
    }

    [Fact]
    [Trait("Req", "ERR-3")]
    [Trait("Req", "OUT-2")]
    public async Task RetainFor_is_validated_naming_the_field_and_capped_by_configuration()
    {
        var files = Directory.GetFiles(_host.UploadsDir).Length;
        foreach (var bad in new[] { "banana", "-5", "P", "PT-1S" })
        {
            using var response = await UploadResponseAsync("bad.pdf", bad);
            var problem = await Api.AssertProblemAsync(response, 400, "invalid_option");
            Assert.Equal("retainFor", problem.GetProperty("field").GetString());
        }

        Assert.Equal(files, Directory.GetFiles(_host.UploadsDir).Length);

        using var capped = await UploadResponseAsync("capped.pdf", "P400D");
        Assert.Equal(HttpStatusCode.Accepted, capped.StatusCode);
        Assert.Equal(10 * 86400, (await Api.JsonAsync(capped)).GetProperty("retainForSeconds").GetInt64());

        using var byDefault = await UploadResponseAsync("default.pdf", null);
        Assert.Equal(86400, (await Api.JsonAsync(byDefault)).GetProperty("retainForSeconds").GetInt64());
    }

    [Theory]
    [Trait("Req", "SU-1")]
    [InlineData("Retention:Default", "20.00:00:00", "Retention:Default must be from 0 to Retention:Max")]
    [InlineData("Retention:SweepIntervalSeconds", "0", "Retention:SweepIntervalSeconds")]
    [InlineData("Retention:TestPauseAfterTombstoneMs", "1000", "SUITE_ALLOW_FAULT_INJECTION")]
    public async Task Invalid_retention_settings_and_the_test_hook_outside_tests_stop_start_up(string key, string value, string named)
    {
        await using var host = IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:Max"] = "10.00:00:00",
            [key] = value,
        });

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    private async Task<string> UploadAsync(string fileName, string? retainFor = null)
    {
        using var response = await UploadResponseAsync(fileName, retainFor);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<HttpResponseMessage> UploadResponseAsync(string fileName, string? retainFor)
    {
        using var form = new MultipartFormDataContent();
        if (retainFor is not null)
        {
            form.Add(new StringContent(retainFor), "retainFor");
        }

        var file = new ByteArrayContent(Api.MinimalPdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", fileName);
        return await Client.PostAsync("/api/documents", form);
    }

    /// <summary>Claims, writes a checkpoint and a page image, and completes with result files: a document with everything on disk.</summary>
    private async Task FinishWithFilesAsync(string id)
    {
        var worker = new FakeWorker(Client, id);
        var lease = await worker.ClaimAsync();
        await PutCheckpointAsync(id, lease);
        var png = await File.ReadAllBytesAsync(FormatFixtures.Path("page-text.png"));
        using (var page = await Client.SendAsync(Api.WithLease(HttpMethod.Put, InternalApi.PageImageArtifact(id, 1), lease, new ByteArrayContent(png))))
        {
            Assert.True(page.IsSuccessStatusCode, await page.Content.ReadAsStringAsync());
        }

        await worker.CompleteAsync();
    }

    private async Task PutCheckpointAsync(string id, long lease)
    {
        using var response = await PutCheckpointResponseAsync(id, lease);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> PutCheckpointResponseAsync(string id, long lease) =>
        Client.SendAsync(Api.WithLease(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Validate), lease, new ByteArrayContent(new byte[4096])));

    private string[] FilesOf(string id) =>
    [
        Path.Combine(_host.UploadsDir, id + ".pdf"),
        Path.Combine(_host.Root, "checkpoints", id),
        Path.Combine(_host.Root, "results", id),
        Path.Combine(_host.Root, "artifacts", id),
    ];

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private static long SizeOf(string path) =>
        File.Exists(path) ? new FileInfo(path).Length
        : Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    private long Count(string sql, string id)
    {
        using var connection = _host.OpenCatalog();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@id", id);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The bytes-reclaimed counter as the service publishes it (in-process, so the same Meter).</summary>
    private sealed class ReclaimedBytes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<long> _values = new();

        public ReclaimedBytes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "ingest.retention.bytes_reclaimed")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _values.Enqueue(value));
            _listener.Start();
        }

        public long Total => _values.Sum();

        public void Dispose() => _listener.Dispose();
    }
}
