using Microsoft.Playwright;

namespace Suite.BrowserTests;

/// <summary>The browser itself, so that a broken driver or chromium fails here in seconds, not in the dashboard test.</summary>
public sealed class ChromiumTests
{
    [Fact]
    public async Task Playwrights_driver_runs_debians_chromium_headless()
    {
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(TimeSpan.FromSeconds(30));
        await page.SetContentAsync("<main><h1>dashboard</h1></main>");

        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync("dashboard");
        Assert.Contains("Chrom", await page.EvaluateAsync<string>("navigator.userAgent"), StringComparison.Ordinal);
    }
}
