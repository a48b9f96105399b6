using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>A worker played by the test through IngestService's internal API: claim, stage reports, page progress, the end.</summary>
public sealed class FakeWorker(HttpClient client, string documentId, string workerId = "test-worker")
{
    public long Lease { get; private set; }

    public async Task<long> ClaimAsync()
    {
        using var response = await client.PostAsJsonAsync(InternalApi.Claim(documentId), new ClaimRequest(workerId));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Lease = JsonSerializer.Deserialize<ClaimResponse>(text, JsonSerializerOptions.Web)!.LeaseToken;
        return Lease;
    }

    public async Task StageAsync(string stage, string status, string? detail = null)
    {
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Stage(documentId, stage), Lease, JsonContent.Create(new StageReport(status, detail)));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{stage}={status}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Reports page progress; true when IngestService recorded it as an event.</summary>
    public async Task<bool> ProgressAsync(string stage, int page, int pages)
    {
        using var response = await SendProgressAsync(stage, page, pages, Lease);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"progress {page}/{pages}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.GetValues("X-Progress-Recorded").Single() == "true";
    }

    public async Task<HttpResponseMessage> SendProgressAsync(string stage, int page, int pages, long lease)
    {
        using var request = Api.WithLease(HttpMethod.Post, InternalApi.StageProgress(documentId, stage), lease, JsonContent.Create(new PageProgressReport(page, pages)));
        return await client.SendAsync(request);
    }

    public async Task CompleteAsync()
    {
        var submission = new ResultSubmission("{\"documentId\":\"" + documentId + "\",\"pages\":[]}", "# Done\n", "Done\n");
        using var request = Api.WithLease(HttpMethod.Put, InternalApi.Result(documentId), Lease, JsonContent.Create(submission));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task FailAsync(string code, string message)
    {
        using var request = Api.WithLease(HttpMethod.Post, InternalApi.Failure(documentId), Lease, JsonContent.Create(new FailureReport(code, message)));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task ReleaseAsync(string reason)
    {
        using var request = Api.WithLease(HttpMethod.Post, InternalApi.Release(documentId), Lease, JsonContent.Create(new ReleaseReport(reason)));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }
}
