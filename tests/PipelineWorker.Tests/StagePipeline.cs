using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// The worker's real stage registration (a <see cref="PipelineHost"/>, engines included), running every stage
/// in-process on a file, with the artifacts (page images, picture files) copied to a local folder to inspect.
/// </summary>
internal sealed class StagePipeline : IDisposable
{
    private readonly PipelineHost _host;
    private readonly List<DirectoryInfo> _folders = [];

    public StagePipeline(IDictionary<string, string?>? settings = null) => _host = new PipelineHost(settings);

    public DocumentPipeline Pipeline => _host.Pipeline;

    public IServiceProvider Services => _host.Services;

    public Task<Run> RunAsync(string corpusFile, DocumentOptions? options = null) =>
        RunAsync(File.ReadAllBytes(RepoPaths.CorpusFile(corpusFile)), corpusFile, options: options);

    /// <summary>Runs every stage on <paramref name="content"/>; the work and artifact folders live until disposal.</summary>
    public async Task<Run> RunAsync(byte[] content, string fileName, CancellationToken cancellationToken = default, DocumentOptions? options = null)
    {
        var work = Directory.CreateTempSubdirectory("suite-pipeline-test-");
        _folders.Add(work);
        var context = new StageContext("doc" + Guid.NewGuid().ToString("N")[..8], fileName, Path.Combine(work.FullName, "work"))
        {
            ArtifactDirectory = Path.Combine(work.FullName, "artifacts"),
            Options = options ?? DocumentOptions.Default,
        };
        await File.WriteAllBytesAsync(context.ContentPath, content, cancellationToken);
        var submission = await Pipeline.RunLocallyAsync(context, cancellationToken);
        return new Run(context, submission);
    }

    public void Dispose()
    {
        _host.Dispose();
        foreach (var folder in _folders)
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A killed subprocess may still hold a file for a moment; the temp folder is cleaned by the OS later.
            }
        }
    }

    /// <summary>One finished run: its result in its renderings, and where its artifacts went.</summary>
    internal sealed record Run(StageContext Context, ResultSubmission Submission)
    {
        public DocumentResult Result { get; } = System.Text.Json.JsonSerializer.Deserialize<DocumentResult>(Submission.Json, DocumentResult.JsonOptions)!;

        public string Markdown => Submission.Markdown;

        public string Text => Submission.Text;

        public string Html => Submission.Html ?? throw new InvalidOperationException("the run produced no HTML");

        public StageOutcome Stage(string name) => Result.Stages.Single(s => s.Name == name);

        public string ArtifactPath(string relative) => Path.Combine(Context.ArtifactDirectory!, relative);
    }
}
