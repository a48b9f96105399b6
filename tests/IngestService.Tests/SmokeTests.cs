namespace IngestService.Tests;

[Collection("ingest")]
public sealed class SmokeTests(IngestFixture fixture)
{
    [Fact]
    public async Task Ready_reports_the_catalog_and_storage_healthy()
    {
        using var response = await fixture.Client.GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var checks = (await Api.JsonAsync(response)).GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("catalog").GetProperty("status").GetString());
        Assert.Equal("ok", checks.GetProperty("catalog").GetProperty("data").GetProperty("quickCheck").GetString());
        Assert.Equal("Healthy", checks.GetProperty("storage").GetProperty("status").GetString());
    }
}
