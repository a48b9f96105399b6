using System.Globalization;

namespace Suite.BrowserTests;

/// <summary>Where a browser test's screenshots go.</summary>
internal static class TestArtifacts
{
    /// <summary>SUITE_TEST_ARTIFACTS, else TestResults/Suite.BrowserTests/&lt;UTC time&gt;[-name] in the repository; created.</summary>
    public static string NewDirectory(string? name = null)
    {
        var root = Environment.GetEnvironmentVariable("SUITE_TEST_ARTIFACTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepoPaths.RepoRoot, "TestResults", "Suite.BrowserTests");
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var directory = Path.Combine(root, name is null ? stamp : $"{stamp}-{name}");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
