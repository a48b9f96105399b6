using Microsoft.Playwright;

namespace Suite.BrowserTests;

public sealed class DriverSmokeTests
{
    [Fact]
    public async Task Chromium_opens_a_page()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        await page.SetContentAsync("<h1>hi</h1>");
        Assert.Equal("hi", await page.InnerTextAsync("h1"));
    }
}
