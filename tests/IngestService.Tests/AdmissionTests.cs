using System.Net;
using System.Text.Json;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// Upload admission on the real service (real SQLite catalog, real redis-server, the real file system): each refusal
/// is a problem with a usable Retry-After, stores nothing, and shows in the readiness details and the metrics.
/// </summary>
// Its metric assertions read the process-wide meters, which every host started in parallel would also feed.
[Collection(TelemetryCollection.Name)]
public sealed class AdmissionTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private IngestHost Start(string key, string value) =>
        IngestHost.Create(_redis.ConnectionString, new Dictionary<string, string?> { [key] = value }).Start();

    [Fact]
    [Trait("Req", "LS-1")]
    [Trait("Req", "LS-7")]
    public async Task Over_the_queue_depth_limit_an_upload_gets_429_with_Retry_After_and_nothing_is_stored()
    {
        await using var host = Start("Admission:MaxQueuedDocuments", "2");
        for (var i = 0; i < 2; i++)
        {
            using var accepted = await Api.UploadAsync(host.Client, Api.MinimalPdf, $"waiting-{i}.pdf");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using var refused = await Api.UploadAsync(host.Client, Api.MinimalPdf, "one-too-many.pdf");

        var problem = await AssertRefusedAsync(refused, HttpStatusCode.TooManyRequests, "queue_full", host);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(2, problem.GetProperty("queuedDocuments").GetInt64());
        Assert.Equal(2, Directory.GetFiles(host.UploadsDir).Length);

        var admission = await ReadinessAdmissionAsync(host);
        Assert.Equal("Degraded", admission.GetProperty("status").GetString());
        var data = admission.GetProperty("data");
        Assert.Equal(2, data.GetProperty("queuedDocuments").GetInt64());
        Assert.Equal(2, data.GetProperty("maxQueuedDocuments").GetInt32());
        Assert.Equal("queue_full", data.GetProperty("lastRefusal").GetString());
        Assert.Equal(1, data.GetProperty("refusals").GetProperty("queue_full").GetInt64());

        var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Matches("suite_admission_decisions[^\\n]*outcome=\"queue_full\"[^\\n]* 1", metrics);
        Assert.Matches("suite_admission_queued_documents[^\\n]* 2\\b", metrics);
        Assert.Matches("suite_admission_queued_documents_limit[^\\n]* 2\\b", metrics);
    }

    [Fact]
    [Trait("Req", "LS-5")]
    [Trait("Req", "LS-7")]
    public async Task Under_the_free_disk_threshold_an_upload_gets_507_and_nothing_is_stored()
    {
        // A threshold above the real free space of this machine's disk: the real statfs reading is below it.
        await using var host = Start("Admission:MinFreeDiskBytes", (1L << 50).ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var refused = await Api.UploadAsync(host.Client, Api.MinimalPdf, "no-room.pdf");

        var problem = await AssertRefusedAsync(refused, HttpStatusCode.InsufficientStorage, "disk_space_low", host);
        Assert.True(problem.GetProperty("freeDiskBytes").GetInt64() > 0);
        Assert.Empty(Directory.GetFiles(host.UploadsDir));
        var data = (await ReadinessAdmissionAsync(host)).GetProperty("data");
        Assert.Contains("disk_space_low", data.GetProperty("shedding").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    [Trait("Req", "LS-5")]
    [Trait("Req", "LS-7")]
    public async Task Over_the_memory_load_limit_an_upload_gets_503_with_Retry_After_and_nothing_is_stored()
    {
        // The limit is set under the machine's real memory load (the GC's own reading after a collection).
        GC.Collect();
        Assert.True(GC.GetGCMemoryInfo().MemoryLoadBytes > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 100, "the machine's memory load is over 1%");
        await using var host = Start("Admission:MaxMemoryLoadPercent", "1");

        using var refused = await Api.UploadAsync(host.Client, Api.MinimalPdf, "no-memory.pdf");

        await AssertRefusedAsync(refused, HttpStatusCode.ServiceUnavailable, "memory_pressure", host);
        Assert.Equal(TimeSpan.FromSeconds(15), refused.Headers.RetryAfter?.Delta);
        Assert.Empty(Directory.GetFiles(host.UploadsDir));
        var metrics = await host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Matches("suite_admission_decisions[^\\n]*outcome=\"memory_pressure\"", metrics);
        Assert.Matches("suite_admission_memory_load_limit[^\\n]* 1\\b", metrics);
    }

    private static async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code, IngestHost host)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Api.JsonAsync(response);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.True(problem.GetProperty("retryable").GetBoolean());
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Empty(Directory.Exists(host.TempDir) ? Directory.GetFiles(host.TempDir) : []);
        return problem;
    }

    private static async Task<JsonElement> ReadinessAdmissionAsync(IngestHost host)
    {
        using var ready = await host.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("checks").GetProperty("admission").Clone();
    }
}
