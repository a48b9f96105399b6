namespace Suite.Testing;

/// <summary>Where the repository and the shared PDF corpus are.</summary>
public static class RepoPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared corpus: SUITE_CORPUS_DIR, else ../shared/corpus/pdf beside the repository.</summary>
    public static string CorpusDir
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("SUITE_CORPUS_DIR");
            var dir = !string.IsNullOrEmpty(fromEnv) ? fromEnv : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus", "pdf"));
            if (!Directory.Exists(dir))
            {
                throw new DirectoryNotFoundException($"The shared PDF corpus is not at {dir}. Set SUITE_CORPUS_DIR to its pdf folder.");
            }

            return dir;
        }
    }

    public static string CorpusFile(string name)
    {
        var path = Path.Combine(CorpusDir, name);
        return File.Exists(path) ? path : throw new FileNotFoundException("Corpus file missing", path);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Suite.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Suite.sln not found above " + AppContext.BaseDirectory);
    }
}
