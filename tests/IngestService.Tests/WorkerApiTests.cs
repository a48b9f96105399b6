using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Suite.Contracts;

namespace IngestService.Tests;

/// <summary>The internal API the PipelineWorker uses, end to end against the real catalog and storage.</summary>
[Collection("ingest")]
public sealed class WorkerApiTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Fact]
    [Trait("Req", "CK-1")]
    public async Task Claim_stage_checkpoint_and_result_complete_the_document_with_all_four_formats()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "flow.pdf");

        var claim = await ClaimAsync(id, "worker-a");
        Assert.Equal(id, claim.DocumentId);
        Assert.Equal("flow.pdf", claim.FileName);
        Assert.Equal(DocumentStatus.Processing, claim.Status);
        Assert.Equal(1, claim.LeaseToken);
        Assert.Equal(Api.MinimalPdf.Length, claim.SizeBytes);
        Assert.Empty(claim.CheckpointedStages);

        using (var content = await Client.GetAsync(InternalApi.Content(id)))
        {
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal("application/pdf", content.Content.Headers.ContentType?.MediaType);
            Assert.Equal(Api.MinimalPdf, await content.Content.ReadAsByteArrayAsync());
        }

        await ReportAsync(id, PipelineStageNames.Validate, claim.LeaseToken, new StageReport(StageStatus.Running), HttpStatusCode.NoContent);
        using (var running = await Client.GetAsync($"/api/documents/{id}"))
        {
            var doc = await Api.JsonAsync(running);
            Assert.Equal("processing", doc.GetProperty("status").GetString());
            var validate = doc.GetProperty("stages")[0];
            Assert.Equal("running", validate.GetProperty("status").GetString());
            Assert.NotEqual(JsonValueKind.Null, validate.GetProperty("startedAt").ValueKind);
            Assert.Equal(JsonValueKind.Null, validate.GetProperty("finishedAt").ValueKind);
        }

        var checkpoint = Encoding.UTF8.GetBytes("{\"schemaVersion\":1,\"pages\":1}");
        using (var put = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Validate), claim.LeaseToken, new ByteArrayContent(checkpoint)))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            Assert.Equal(Sha(checkpoint), put.Headers.GetValues("X-Checksum-Sha256").Single());
        }

        using (var get = await Client.GetAsync(InternalApi.Checkpoint(id, PipelineStageNames.Validate)))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(checkpoint, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(Sha(checkpoint), get.Headers.GetValues("X-Checksum-Sha256").Single());
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Host.Root, "checkpoints", id), "*.tmp"));
        await ReportAsync(id, PipelineStageNames.Validate, claim.LeaseToken, new StageReport(StageStatus.Completed), HttpStatusCode.NoContent);
        await ReportAsync(id, PipelineStageNames.Extract, claim.LeaseToken, new StageReport(StageStatus.Degraded, "no fonts"), HttpStatusCode.NoContent);
        using (var put = await SendAsync(HttpMethod.Put, InternalApi.Stage(id, PipelineStageNames.Assemble), claim.LeaseToken,
                   JsonContent.Create(new StageReport(StageStatus.Completed))))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        // A claim after the crash of the first worker sees the checkpoint.
        var reclaim = await ClaimAsync(id, "worker-b");
        Assert.Equal(2, reclaim.LeaseToken);
        Assert.Equal([PipelineStageNames.Validate], reclaim.CheckpointedStages);

        var submission = new ResultSubmission("{\"documentId\":\"" + id + "\",\"pages\":[]}", "# Title\n\nBody ü\n", "Title\n\nBody ü\n",
            "<!DOCTYPE html>\n<html lang=\"und\"><head><meta charset=\"utf-8\"><title>Title</title></head><body><h1>Title</h1><p>Body ü</p></body></html>\n");
        using (var result = await SendAsync(HttpMethod.Put, InternalApi.Result(id), reclaim.LeaseToken, JsonContent.Create(submission)))
        {
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
            Assert.Equal("completed", (await Api.JsonAsync(result)).GetProperty("status").GetString());
        }

        // The same submission again with the same lease: 200, nothing changes.
        using (var again = await SendAsync(HttpMethod.Put, InternalApi.Result(id), reclaim.LeaseToken, JsonContent.Create(submission)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // A different result for the completed document is refused: never two results.
        using (var other = await SendAsync(HttpMethod.Put, InternalApi.Result(id), reclaim.LeaseToken,
                   JsonContent.Create(submission with { Text = "something else" })))
        {
            await Api.AssertProblemAsync(other, 409, "result_conflict");
        }

        using (var detail = await Client.GetAsync($"/api/documents/{id}"))
        {
            var doc = await Api.JsonAsync(detail);
            Assert.Equal("completed", doc.GetProperty("status").GetString());
            var stages = doc.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
            Assert.Equal(PipelineStageNames.All, stages.Keys);
            var reported = new[] { PipelineStageNames.Validate, PipelineStageNames.Extract, PipelineStageNames.Assemble }.Select(n => stages[n]).ToList();
            Assert.Equal(["completed", "degraded", "completed"], reported.Select(s => s.GetProperty("status").GetString()));
            Assert.Equal("no fonts", reported[1].GetProperty("detail").GetString());
            Assert.False(reported[0].TryGetProperty("detail", out _));
            Assert.All(reported, s => Assert.NotEqual(JsonValueKind.Null, s.GetProperty("finishedAt").ValueKind));
        }

        await AssertResultAsync(id, "", "application/json", submission.Json);
        await AssertResultAsync(id, "?format=json", "application/json", submission.Json);
        await AssertResultAsync(id, "?format=markdown", "text/markdown", submission.Markdown);
        await AssertResultAsync(id, "?format=text", "text/plain", submission.Text);
        await AssertResultAsync(id, "?format=html", "text/html", submission.Html!);
        await AssertResultAsync(id, "?format=HTML", "text/html", submission.Html!);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Host.Root, "results", id), "*.tmp"));

        // A terminal document is not claimed again: same status, same lease.
        var late = await ClaimAsync(id, "worker-c");
        Assert.Equal(DocumentStatus.Completed, late.Status);
        Assert.Equal(2, late.LeaseToken);
    }

    [Fact]
    [Trait("Req", "ERR-1")]
    public async Task A_result_submitted_without_html_by_an_earlier_worker_completes_and_html_answers_a_clear_problem()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "before-html.pdf");
        var claim = await ClaimAsync(id, "worker-of-the-version-before");

        // The body a worker of the version before HTML sends: three renderings, no "html" property at all.
        var json = "{\"documentId\":\"" + id + "\",\"pages\":[]}";
        var body = JsonSerializer.Serialize(new { json, markdown = "# Old\n", text = "Old\n" });
        using (var result = await SendAsync(HttpMethod.Put, InternalApi.Result(id), claim.LeaseToken, new StringContent(body, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        // A replay of the same body is recognised as the same result.
        using (var again = await SendAsync(HttpMethod.Put, InternalApi.Result(id), claim.LeaseToken, new StringContent(body, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        await AssertResultAsync(id, "", "application/json", json);
        await AssertResultAsync(id, "?format=markdown", "text/markdown", "# Old\n");
        await AssertResultAsync(id, "?format=text", "text/plain", "Old\n");
        using (var html = await Client.GetAsync($"/api/documents/{id}/result?format=html"))
        {
            var problem = await Api.AssertProblemAsync(html, 404, "result_format_unavailable");
            Assert.Equal("html", problem.GetProperty("format").GetString());
            Assert.Contains("another format", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(fixture.Host.Root, "results", id, "result.html")));
    }

    [Fact]
    [Trait("Req", "CK-4")]
    public async Task A_stale_lease_is_refused_on_every_write_and_changes_nothing()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "stale.pdf");
        var first = await ClaimAsync(id, "worker-old");
        var second = await ClaimAsync(id, "worker-new");
        Assert.True(second.LeaseToken > first.LeaseToken);

        var current = Encoding.UTF8.GetBytes("checkpoint of the current owner");
        using (var put = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Extract), second.LeaseToken, new ByteArrayContent(current)))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var stale = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Extract), first.LeaseToken,
                   new ByteArrayContent(Encoding.UTF8.GetBytes("checkpoint of a zombie"))))
        {
            var problem = await Api.AssertProblemAsync(stale, 409, "stale_lease");
            Assert.Contains("another worker owns this document now", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var get = await Client.GetAsync(InternalApi.Checkpoint(id, PipelineStageNames.Extract)))
        {
            Assert.Equal(current, await get.Content.ReadAsByteArrayAsync());
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Host.Root, "checkpoints", id), "*.tmp"));

        await ReportAsync(id, PipelineStageNames.Extract, first.LeaseToken, new StageReport(StageStatus.Failed, "zombie"), HttpStatusCode.Conflict);
        using (var result = await SendAsync(HttpMethod.Put, InternalApi.Result(id), first.LeaseToken, JsonContent.Create(new ResultSubmission("{}", "", ""))))
        {
            await Api.AssertProblemAsync(result, 409, "stale_lease");
        }

        using (var failure = await SendAsync(HttpMethod.Post, InternalApi.Failure(id), first.LeaseToken, JsonContent.Create(new FailureReport("zombie", "zombie"))))
        {
            await Api.AssertProblemAsync(failure, 409, "stale_lease");
        }

        // No header, or token 0 (an unclaimed document's value), is never a valid lease.
        using (var none = new HttpRequestMessage(HttpMethod.Put, InternalApi.Stage(id, PipelineStageNames.Extract)) { Content = JsonContent.Create(new StageReport(StageStatus.Running)) })
        using (var response = await Client.SendAsync(none))
        {
            await Api.AssertProblemAsync(response, 409, "stale_lease");
        }

        await ReportAsync(id, PipelineStageNames.Extract, 0, new StageReport(StageStatus.Running), HttpStatusCode.Conflict);

        using var detail = await Client.GetAsync($"/api/documents/{id}");
        var doc = await Api.JsonAsync(detail);
        Assert.Equal("processing", doc.GetProperty("status").GetString());
        Assert.Equal("pending", doc.GetProperty("stages")[1].GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_failure_ends_the_document_and_the_result_says_why()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "fails.pdf");

        using (var notReady = await Client.GetAsync($"/api/documents/{id}/result"))
        {
            var problem = await Api.AssertProblemAsync(notReady, 409, "result_not_ready");
            Assert.True(problem.GetProperty("retryable").GetBoolean());
            Assert.Contains("queued", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var claim = await ClaimAsync(id, "worker-f");
        using (var failure = await SendAsync(HttpMethod.Post, InternalApi.Failure(id), claim.LeaseToken,
                   JsonContent.Create(new FailureReport("encrypted", "The PDF is password-protected."))))
        {
            Assert.Equal(HttpStatusCode.OK, failure.StatusCode);
        }

        using (var detail = await Client.GetAsync($"/api/documents/{id}"))
        {
            var doc = await Api.JsonAsync(detail);
            Assert.Equal("failed", doc.GetProperty("status").GetString());
            Assert.Equal("encrypted", doc.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal("The PDF is password-protected.", doc.GetProperty("error").GetProperty("message").GetString());
        }

        using (var result = await Client.GetAsync($"/api/documents/{id}/result?format=text"))
        {
            var problem = await Api.AssertProblemAsync(result, 409, "no_result");
            Assert.Equal("encrypted", problem.GetProperty("error").GetProperty("code").GetString());
        }

        // A failed document cannot be completed afterwards.
        using (var late = await SendAsync(HttpMethod.Put, InternalApi.Result(id), claim.LeaseToken, JsonContent.Create(new ResultSubmission("{}", "", ""))))
        {
            await Api.AssertProblemAsync(late, 409, "document_terminal");
        }

        var after = await ClaimAsync(id, "worker-g");
        Assert.Equal(DocumentStatus.Failed, after.Status);
        Assert.Equal(claim.LeaseToken, after.LeaseToken);
    }

    [Fact]
    public async Task Bad_worker_requests_get_specific_problems()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "bad-requests.pdf");
        var claim = await ClaimAsync(id, "worker-x");

        using (var unknown = await Client.PostAsJsonAsync(InternalApi.Claim("0123456789abcdef0123456789abcdef"), new ClaimRequest("w")))
        {
            await Api.AssertProblemAsync(unknown, 404, "document_not_found");
        }

        using (var noWorker = await Client.PostAsJsonAsync(InternalApi.Claim(id), new { }))
        {
            await Api.AssertProblemAsync(noWorker, 400, "invalid_body");
        }

        using (var stage = await SendAsync(HttpMethod.Put, InternalApi.Stage(id, "teleport"), claim.LeaseToken, JsonContent.Create(new StageReport("running"))))
        {
            await Api.AssertProblemAsync(stage, 400, "unknown_stage");
        }

        using (var status = await SendAsync(HttpMethod.Put, InternalApi.Stage(id, PipelineStageNames.Validate), claim.LeaseToken, JsonContent.Create(new StageReport("sleeping"))))
        {
            await Api.AssertProblemAsync(status, 400, "invalid_stage_status");
        }

        using (var checkpointStage = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, "..%2F..%2Fcatalog.db"), claim.LeaseToken, new ByteArrayContent([1])))
        {
            await Api.AssertProblemAsync(checkpointStage, 400, "unknown_stage");
        }

        using (var missing = await Client.GetAsync(InternalApi.Checkpoint(id, PipelineStageNames.Assemble)))
        {
            await Api.AssertProblemAsync(missing, 404, "checkpoint_not_found");
        }

        using (var notJson = await SendAsync(HttpMethod.Put, InternalApi.Result(id), claim.LeaseToken,
                   JsonContent.Create(new ResultSubmission("{not json", "", ""))))
        {
            await Api.AssertProblemAsync(notJson, 400, "invalid_body");
        }

        using (var format = await Client.GetAsync($"/api/documents/{id}/result?format=pdf"))
        {
            var problem = await Api.AssertProblemAsync(format, 400, "invalid_format");
            Assert.Equal("format", problem.GetProperty("parameter").GetString());
            Assert.Equal(["json", "markdown", "text", "html"], problem.GetProperty("allowed").EnumerateArray().Select(a => a.GetString()));
        }
    }

    [Fact]
    [Trait("Req", "CK-4")]
    public async Task Concurrent_claims_hand_out_distinct_increasing_leases()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "race.pdf");
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ClaimAsync(id, $"racer-{i}")));
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), claims.Select(c => c.LeaseToken).Order());
    }

    private async Task<ClaimResponse> ClaimAsync(string id, string worker)
    {
        using var response = await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest(worker));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<ClaimResponse>(text, JsonSerializerOptions.Web)!;
    }

    private async Task ReportAsync(string id, string stage, long lease, StageReport report, HttpStatusCode expected)
    {
        using var response = await SendAsync(HttpMethod.Put, InternalApi.Stage(id, stage), lease, JsonContent.Create(report));
        Assert.True(response.StatusCode == expected, $"{stage}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string uri, long lease, HttpContent content)
    {
        using var request = Api.WithLease(method, uri, lease, content);
        return await Client.SendAsync(request);
    }

    private async Task AssertResultAsync(string id, string query, string mediaType, string expected)
    {
        using var response = await Client.GetAsync($"/api/documents/{id}/result{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        if (mediaType.StartsWith("text/", StringComparison.Ordinal))
        {
            Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        }

        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}
