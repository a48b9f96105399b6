using Microsoft.Playwright;

namespace Suite.BrowserTests;

/// <summary>
/// Playwright's driver (node, shipped inside the Microsoft.Playwright package under .playwright/) driving Debian's
/// chromium: headless, without the setuid sandbox (the tests run as root in a container), and never a browser that
/// Playwright downloads itself.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Debian's chromium (installed by .ci/prereqs); CHROMIUM_PATH names another build.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException(
                $"No chromium at {ExecutablePath}: run .ci/prereqs (apt-get install chromium) or set CHROMIUM_PATH.", ExecutablePath);
        }

        // The driver must never fetch a browser build of its own: the one it drives is ExecutablePath.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--no-sandbox"],
                Timeout = 60_000,
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh context (own cookies) and page, large enough that the dashboard shows its desktop layout.</summary>
    public async Task<IPage> NewPageAsync(TimeSpan actionTimeout)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        context.SetDefaultTimeout((float)actionTimeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout(60_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
