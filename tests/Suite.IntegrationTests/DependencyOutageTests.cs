using System.Net;

namespace Suite.IntegrationTests;

/// <summary>Redis held down under the running suite: health tells the truth and accepted uploads are not lost.</summary>
[Collection("suite")]
public sealed class DependencyOutageTests(SuiteFixture suite)
{
    [Fact]
    [Trait("Req", "HC-1")]
    [Trait("Req", "HC-2")]
    [Trait("Req", "JOB-7")]
    public async Task With_redis_down_liveness_stays_up_readiness_says_not_ready_and_an_upload_still_completes_after_recovery()
    {
        var ingest = new HttpClient { BaseAddress = suite.App.GetEndpoint("ingest"), Timeout = TimeSpan.FromSeconds(10) };
        await suite.App.StopReplicaAsync("redis", 0);
        string id;
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                using var ready = await ingest.GetAsync(new Uri("/health/ready", UriKind.Relative));
                return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(30), "ingest readiness turns 503 while Redis is down");

            using (var live = await ingest.GetAsync(new Uri("/health/live", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            // Accepted while the queue is unreachable: the catalog is the source of truth.
            id = await suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
            Assert.Equal("queued", (await suite.GetDocumentAsync(id)).GetProperty("status").GetString());
        }
        finally
        {
            await suite.App.StartReplicaAsync("redis", 0);
        }

        await suite.App.WaitForHealthyAsync("ingest", TimeSpan.FromSeconds(60));
        var document = await suite.WaitForTerminalAsync(id, TimeSpan.FromMinutes(2));
        Assert.True(document.GetProperty("status").GetString() == "completed", $"{document}\n{suite.Diagnostics()}");
        ingest.Dispose();
    }
}
