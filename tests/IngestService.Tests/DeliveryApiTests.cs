using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Suite.Contracts;
using Suite.Testing;

namespace IngestService.Tests;

/// <summary>
/// The delivery side of the catalog against the real service: expiring leases and their renewal, transient
/// releases, cancel and retry through the public API, and each document's history.
/// </summary>
[Collection("ingest")]
public sealed class DeliveryApiTests(IngestFixture fixture)
{
    private HttpClient Client => fixture.Client;

    [Fact]
    [Trait("Req", "JOB-6")]
    public async Task A_live_lease_refuses_a_second_worker_until_it_expires_and_renewal_keeps_it_live()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "leased.pdf");
        var owner = await ClaimOkAsync(id, "worker-owner", leaseSeconds: 2);

        // A duplicate delivery to another worker while the owner is alive.
        using (var duplicate = await ClaimAsync(id, "worker-dup", leaseSeconds: 2))
        {
            var problem = await Api.AssertProblemAsync(duplicate, 409, "lease_held");
            Assert.True(problem.GetProperty("retryable").GetBoolean());
        }

        // Renewing pushes the expiry on; the refused claim changed nothing.
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var status = await RenewAsync(id, owner.LeaseToken);
            Assert.Equal(DocumentStatus.Processing, status.Status);
            Assert.Equal(owner.LeaseToken, status.LeaseToken);
        }

        using (var stillHeld = await ClaimAsync(id, "worker-dup", leaseSeconds: 2))
        {
            await Api.AssertProblemAsync(stillHeld, 409, "lease_held");
        }

        // The same consumer name (a restarted replica) may take its own lease back at once.
        var restarted = await ClaimOkAsync(id, "worker-owner", leaseSeconds: 2);
        Assert.Equal(owner.LeaseToken + 1, restarted.LeaseToken);

        // Without renewal the lease expires and another worker gets the document; the old lease is fenced off.
        var next = await Eventually.ValueAsync(async () =>
        {
            using var response = await ClaimAsync(id, "worker-dup", leaseSeconds: 2);
            return response.StatusCode == HttpStatusCode.OK
                ? JsonSerializer.Deserialize<ClaimResponse>(await response.Content.ReadAsStringAsync(), JsonSerializerOptions.Web)
                : null;
        }, TimeSpan.FromSeconds(10), "the expired lease is taken over");
        Assert.Equal(restarted.LeaseToken + 1, next.LeaseToken);
        using (var stale = await SendAsync(HttpMethod.Post, InternalApi.Lease(id), restarted.LeaseToken, null))
        {
            await Api.AssertProblemAsync(stale, 409, "stale_lease");
        }

        var history = await EventsAsync(id);
        // Two refusals above, then one per poll while the restarted owner's lease ran out.
        Assert.True(history.Count(e => e.Kind == DocumentEventKinds.ClaimRefused && e.Worker == "worker-dup") >= 2);
        Assert.Equal([owner.LeaseToken, restarted.LeaseToken, next.LeaseToken], history.Where(e => e.Kind == DocumentEventKinds.Claimed).Select(e => e.LeaseToken!.Value));
        Assert.Contains(history, e => e.Kind == DocumentEventKinds.StaleLeaseRefused && e.LeaseToken == restarted.LeaseToken);
    }

    [Fact]
    [Trait("Req", "RTY-6")]
    public async Task A_released_attempt_queues_the_document_again_and_the_next_claim_learns_why()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "released.pdf");
        var claim = await ClaimOkAsync(id, "worker-a", leaseSeconds: 30);
        await ReportAsync(id, PipelineStageNames.Extract, claim.LeaseToken, StageStatus.Running);

        using (var release = await SendAsync(HttpMethod.Post, InternalApi.Release(id), claim.LeaseToken,
                   JsonContent.Create(new ReleaseReport("Stage extract did not finish within 60 s.", DateTimeOffset.UtcNow.AddSeconds(4)))))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        var detail = await DetailAsync(id);
        Assert.Equal("queued", detail.GetProperty("status").GetString());
        Assert.Equal("Stage extract did not finish within 60 s.", detail.GetProperty("lastError").GetString());
        var extract = detail.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("name").GetString() == PipelineStageNames.Extract);
        Assert.Equal("pending", extract.GetProperty("status").GetString());

        // The lease ended with the release: another worker claims at once and is told the previous reason.
        var next = await ClaimOkAsync(id, "worker-b", leaseSeconds: 30);
        Assert.Equal("Stage extract did not finish within 60 s.", next.LastError);
        Assert.Equal(2, (await DetailAsync(id)).GetProperty("attempts").GetInt32());
    }

    [Fact]
    [Trait("Req", "JOB-3")]
    public async Task A_claim_after_a_silent_death_names_the_stage_the_previous_worker_died_in()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "died.pdf");
        var first = await ClaimOkAsync(id, "worker-dies", leaseSeconds: 1);
        await ReportAsync(id, PipelineStageNames.Extract, first.LeaseToken, StageStatus.Running);

        var second = await Eventually.ValueAsync(async () =>
        {
            using var response = await ClaimAsync(id, "worker-next", leaseSeconds: 1);
            return response.StatusCode == HttpStatusCode.OK
                ? JsonSerializer.Deserialize<ClaimResponse>(await response.Content.ReadAsStringAsync(), JsonSerializerOptions.Web)
                : null;
        }, TimeSpan.FromSeconds(10), "the dead worker's lease expires");

        Assert.Contains("stopped during stage extract", second.LastError, StringComparison.Ordinal);
        Assert.Contains("worker-dies", second.LastError, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "JOB-5")]
    public async Task Cancel_ends_a_queued_or_processing_document_at_once_and_the_worker_can_write_nothing_more()
    {
        var queued = await Api.UploadOkAsync(Client, Api.MinimalPdf, "cancel-queued.pdf");
        using (var cancel = await Client.DeleteAsync($"/api/documents/{queued}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("cancelled", (await Api.JsonAsync(cancel)).GetProperty("status").GetString());
        }

        var processing = await Api.UploadOkAsync(Client, Api.MinimalPdf, "cancel-processing.pdf");
        var claim = await ClaimOkAsync(processing, "worker-c", leaseSeconds: 30);
        await ReportAsync(processing, PipelineStageNames.Validate, claim.LeaseToken, StageStatus.Running);
        using (var cancel = await Client.DeleteAsync($"/api/documents/{processing}"))
        {
            var doc = await Api.JsonAsync(cancel);
            Assert.Equal("cancelled", doc.GetProperty("status").GetString());
            Assert.Equal("cancelled", doc.GetProperty("error").GetProperty("code").GetString());
            Assert.All(doc.GetProperty("stages").EnumerateArray(), s => Assert.Equal("skipped", s.GetProperty("status").GetString()));
        }

        // The worker's next heartbeat says cancelled; its writes are refused; the claim of a redelivery says cancelled.
        Assert.Equal(DocumentStatus.Cancelled, (await RenewAsync(processing, claim.LeaseToken)).Status);
        using (var checkpoint = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(processing, PipelineStageNames.Validate), claim.LeaseToken,
                   new ByteArrayContent(Encoding.UTF8.GetBytes("{}"))))
        {
            await Api.AssertProblemAsync(checkpoint, 409, "document_terminal");
        }

        using (var result = await SendAsync(HttpMethod.Put, InternalApi.Result(processing), claim.LeaseToken, JsonContent.Create(new ResultSubmission("{}", "", ""))))
        {
            await Api.AssertProblemAsync(result, 409, "document_terminal");
        }

        Assert.Equal(DocumentStatus.Cancelled, (await ClaimOkAsync(processing, "worker-d", leaseSeconds: 30)).Status);

        // Once cancelled it is finished: a second DELETE deletes it (Req OUT-2); a finished document is deleted at once;
        // an unknown one is 404.
        using (var again = await Client.DeleteAsync($"/api/documents/{processing}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        var done = await Api.UploadOkAsync(Client, Api.MinimalPdf, "cancel-done.pdf");
        var doneClaim = await ClaimOkAsync(done, "worker-e", leaseSeconds: 30);
        using (var complete = await SendAsync(HttpMethod.Put, InternalApi.Result(done), doneClaim.LeaseToken, JsonContent.Create(new ResultSubmission("{}", "", ""))))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        }

        using (var late = await Client.DeleteAsync($"/api/documents/{done}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, late.StatusCode);
        }

        using (var gone = await Client.GetAsync($"/api/documents/{done}"))
        {
            await Api.AssertProblemAsync(gone, 410, "document_deleted");
        }

        using (var unknown = await Client.DeleteAsync("/api/documents/0123456789abcdef0123456789abcdef"))
        {
            await Api.AssertProblemAsync(unknown, 404, "document_not_found");
        }
    }

    [Fact]
    [Trait("Req", "JOB-3")]
    public async Task Retry_queues_a_failed_document_again_with_a_new_job_and_keeps_its_checkpoints()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "retry.pdf");
        var claim = await ClaimOkAsync(id, "worker-r", leaseSeconds: 30);
        var checkpoint = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"version\":1}"));
        using (var put = await SendAsync(HttpMethod.Put, InternalApi.Checkpoint(id, PipelineStageNames.Validate), claim.LeaseToken, checkpoint))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        await ReportAsync(id, PipelineStageNames.Validate, claim.LeaseToken, StageStatus.Completed);
        await ReportAsync(id, PipelineStageNames.Extract, claim.LeaseToken, StageStatus.Failed);
        using (var fail = await SendAsync(HttpMethod.Post, InternalApi.Failure(id), claim.LeaseToken,
                   JsonContent.Create(new FailureReport(DeliveryErrorCodes.DeadLettered, "Gave up after 6 deliveries."))))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }

        var jobsBefore = (await Api.JobEntriesAsync(fixture.RedisClient, id)).Length;
        using (var retry = await Client.PostAsync($"/api/documents/{id}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            Assert.Equal($"/api/documents/{id}", retry.Headers.Location?.ToString());
            var doc = await Api.JsonAsync(retry);
            Assert.Equal("queued", doc.GetProperty("status").GetString());
            Assert.False(doc.TryGetProperty("error", out _));
            Assert.Equal(1, doc.GetProperty("retries").GetInt32());
            var stages = doc.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("status").GetString());
            Assert.Equal("completed", stages[PipelineStageNames.Validate]);
            Assert.Equal("pending", stages[PipelineStageNames.Extract]);
        }

        Assert.Equal(jobsBefore + 1, (await Api.JobEntriesAsync(fixture.RedisClient, id)).Length);
        var resumed = await ClaimOkAsync(id, "worker-r2", leaseSeconds: 30);
        Assert.Equal([PipelineStageNames.Validate], resumed.CheckpointedStages);

        using (var busy = await Client.PostAsync($"/api/documents/{id}/retry", null))
        {
            await Api.AssertProblemAsync(busy, 409, "not_retryable");
        }

        var history = await EventsAsync(id);
        Assert.Equal(
            [DocumentEventKinds.Accepted, DocumentEventKinds.Enqueued, DocumentEventKinds.Claimed, DocumentEventKinds.Checkpoint,
             DocumentEventKinds.Failed, DocumentEventKinds.Retried, DocumentEventKinds.Enqueued, DocumentEventKinds.Claimed],
            history.Select(e => e.Kind));
        Assert.Contains("resumes after validate", history.Single(e => e.Kind == DocumentEventKinds.Retried).Detail, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "TMO-3")]
    public async Task The_claim_tells_the_processing_time_of_earlier_attempts_released_or_abandoned_and_a_manual_retry_starts_afresh()
    {
        var id = await Api.UploadOkAsync(Client, Api.MinimalPdf, "budget.pdf");
        var first = await ClaimOkAsync(id, "worker-b1", leaseSeconds: 30);
        Assert.Equal(0, first.BudgetUsedMs);

        // An attempt that works a while, then fails transiently.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.UntilAsync(() => Task.FromResult(clock.ElapsedMilliseconds >= 600), TimeSpan.FromSeconds(5), "600 ms of work");
        using (var release = await SendAsync(HttpMethod.Post, InternalApi.Release(id), first.LeaseToken, JsonContent.Create(new ReleaseReport("stage ocr timed out"))))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        var firstAttempt = clock.ElapsedMilliseconds;
        var second = await ClaimOkAsync(id, "worker-b2", leaseSeconds: 1);
        Assert.InRange(second.BudgetUsedMs, 600, firstAttempt + 500);

        // An attempt whose worker dies: it counts up to its last sign of life (a lease renewal), not beyond.
        clock.Restart();
        await Eventually.UntilAsync(() => Task.FromResult(clock.ElapsedMilliseconds >= 400), TimeSpan.FromSeconds(5), "400 ms of work");
        await RenewAsync(id, second.LeaseToken);
        var lastSign = clock.ElapsedMilliseconds;
        await Eventually.UntilAsync(() => Task.FromResult(clock.ElapsedMilliseconds >= lastSign + 1500), TimeSpan.FromSeconds(5), "silence past the 1 s lease");
        var third = await ClaimOkAsync(id, "worker-b3", leaseSeconds: 30);
        Assert.InRange(third.BudgetUsedMs - second.BudgetUsedMs, 400, lastSign + 500);

        // A manual retry gives the document a whole budget again.
        using (var fail = await SendAsync(HttpMethod.Post, InternalApi.Failure(id), third.LeaseToken,
                   JsonContent.Create(new FailureReport(DeliveryErrorCodes.Timeout, "The document was not finished within its budget."))))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }

        using (var retry = await Client.PostAsync($"/api/documents/{id}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }

        Assert.Equal(0, (await ClaimOkAsync(id, "worker-b4", leaseSeconds: 30)).BudgetUsedMs);
    }

    private async Task<HttpResponseMessage> ClaimAsync(string id, string worker, int leaseSeconds) =>
        await Client.PostAsJsonAsync(InternalApi.Claim(id), new ClaimRequest(worker, leaseSeconds));

    private async Task<ClaimResponse> ClaimOkAsync(string id, string worker, int leaseSeconds)
    {
        using var response = await ClaimAsync(id, worker, leaseSeconds);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<ClaimResponse>(text, JsonSerializerOptions.Web)!;
    }

    private async Task<LeaseStatus> RenewAsync(string id, long lease)
    {
        using var response = await SendAsync(HttpMethod.Post, InternalApi.Lease(id), lease, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonSerializer.Deserialize<LeaseStatus>(text, JsonSerializerOptions.Web)!;
    }

    private async Task ReportAsync(string id, string stage, long lease, string status)
    {
        using var response = await SendAsync(HttpMethod.Put, InternalApi.Stage(id, stage), lease, JsonContent.Create(new StageReport(status)));
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> DetailAsync(string id)
    {
        using var response = await Client.GetAsync($"/api/documents/{id}");
        return await Api.JsonAsync(response);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string uri, long lease, HttpContent? content)
    {
        using var request = Api.WithLease(method, uri, lease, content);
        return await Client.SendAsync(request);
    }

    private async Task<IReadOnlyList<DocumentEvent>> EventsAsync(string id) =>
        (await Client.GetFromJsonAsync<List<DocumentEvent>>(InternalApi.Events(id), JsonSerializerOptions.Web))!;
}
