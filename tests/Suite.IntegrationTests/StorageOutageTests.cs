using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Suite.Contracts;
using Xunit.Abstractions;

namespace Suite.IntegrationTests;

/// <summary>
/// IngestService's storage root vanishes while documents are being processed (an empty file system laid over it, as an
/// unmounted volume leaves its mount point) and comes back, on the real topology with real workers.
/// </summary>
[Collection("chaos")]
public sealed class StorageOutageTests(ChaosFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(8);

    [Fact]
    [Trait("Req", "FS-4")]
    [Trait("Req", "FS-1")]
    [Trait("Req", "JOB-1")]
    public async Task Documents_in_flight_when_the_storage_root_vanishes_are_retried_and_all_complete_once_it_returns()
    {
        var app = fixture.App;
        var pdf = await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        // Held in a middle stage on their first attempt, so the outage lands while they are processing.
        await app.SetFaultsAsync(new FaultSpec(PipelineStageNames.Layout, "slow", "storage-outage-*", Seconds: 4, MaxAttempt: 1));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await app.UploadAcceptedAsync(pdf, $"storage-outage-{i}.pdf"));
        }

        await app.WaitForStageRunningAsync(ids[0], PipelineStageNames.Layout, TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        string[] writtenMeanwhile;
        try
        {
            await using var gone = TmpfsMount.HideContentsOf(app.IngestRoot);
            using (var upload = await app.Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), Multipart(pdf, "during-outage.pdf")))
            {
                var body = await upload.Content.ReadAsStringAsync();
                Assert.True(upload.StatusCode == HttpStatusCode.ServiceUnavailable, body);
                Assert.Equal("storage_unavailable", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
                Assert.NotNull(upload.Headers.RetryAfter);
            }

            using (var ready = await app.Ingest.GetAsync(new Uri("/health/ready", UriKind.Relative)))
            {
                var body = await ready.Content.ReadAsStringAsync();
                Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, body);
                Assert.Contains("is the volume mounted", body, StringComparison.Ordinal);
            }

            // The fault is held for a fixed time, longer than the slow stage, so that the workers meet it when they save
            // that stage's checkpoint and have to wait it out.
            if (Outage - clock.Elapsed is { Ticks: > 0 } left)
            {
                await Task.Delay(left);
            }

            writtenMeanwhile = Directory.GetFileSystemEntries(app.IngestRoot);
        }
        finally
        {
            // Whatever happened above, the other tests of the collection get a suite that writes again: the first write
            // after the catalog's break is its probe.
            await app.SetFaultsAsync();
            await Eventually.UntilAsync(async () =>
            {
                using var upload = await app.Gateway.PostAsync(new Uri("/api/documents", UriKind.Relative), Multipart(pdf, "after-storage-outage.pdf"));
                return upload.StatusCode == HttpStatusCode.Accepted;
            }, TimeSpan.FromSeconds(60), "uploads are accepted again once the storage root is back", TimeSpan.FromSeconds(1));
        }

        output.WriteLine($"storage root hidden for {clock.Elapsed.TotalSeconds:F1} s");
        // Nothing was written into the empty file system, where it would have vanished when the volume came back.
        Assert.Empty(writtenMeanwhile);
        foreach (var id in ids)
        {
            var document = await app.WaitForTerminalAsync(id, TimeSpan.FromSeconds(120));
            Assert.True(ChaosApp.Status(document) == DocumentStatus.Completed, $"{id}: {document}\n{app.Diagnostics()}");
            using var result = await app.Gateway.GetAsync(new Uri($"/api/documents/{id}/result?format=markdown", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        }

        await Eventually.UntilAsync(async () =>
        {
            using var ready = await app.Ingest.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return ready.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "ingest is ready again");
        await app.WaitUntilQueueDrainedAsync(TimeSpan.FromSeconds(60));
    }

    private static MultipartFormDataContent Multipart(byte[] pdf, string fileName)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        form.Add(file, "file", fileName);
        return form;
    }
}
