namespace Suite.Testing;

/// <summary>
/// The committed documents of every input format (tests/PipelineWorker.Tests/Fixtures/formats, origins in its
/// MANIFEST.md), shared by the worker's reader tests and the suite's.
/// </summary>
public static class FormatFixtures
{
    public static string Path(string name) => System.IO.Path.Combine(RepoPaths.RepoRoot, "tests", "PipelineWorker.Tests", "Fixtures", "formats", name);

    /// <summary>The words of source.md as a reader of its DOCX, PPTX, HTML or Markdown sees them: front matter, fences, table rules and image syntax left out.</summary>
    public static string SourceText()
    {
        var lines = File.ReadAllLines(Path("source.md"));
        var body = lines.SkipWhile(l => l != "---").Skip(1).SkipWhile(l => l != "---").Skip(1)
            .Where(l => !l.StartsWith(":::", StringComparison.Ordinal) && !l.StartsWith("```", StringComparison.Ordinal) && !l.StartsWith("|---", StringComparison.Ordinal))
            .Select(l => l.Replace("![", " ", StringComparison.Ordinal).Replace("](harbour.png", " ", StringComparison.Ordinal));
        return string.Join('\n', body);
    }
}
