using System.Net;

namespace IngestService.Tests;

[Collection("ingest")]
public sealed class ConcurrencyTests(IngestFixture fixture)
{
    [Fact]
    [Trait("Req", "DB-7")]
    public async Task Many_concurrent_uploads_all_succeed_without_database_locked_errors()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var response = await Api.UploadAsync(fixture.Client, Api.MinimalPdf, $"concurrent-{i}.pdf");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.Accepted, r.Body));
        Assert.Empty(Directory.EnumerateFiles(fixture.Host.TempDir));
    }
}
