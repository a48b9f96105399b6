using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// The worker's real stage registration (AddPipelineStages) in a bare host, to run the stages in-process on
/// corpus files without Redis or HTTP.
/// </summary>
internal sealed class PipelineHost : IDisposable
{
    private readonly IHost _host;

    public PipelineHost(IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddPipelineStages();
        _host = builder.Build();
        Pipeline = _host.Services.GetRequiredService<DocumentPipeline>();
    }

    public DocumentPipeline Pipeline { get; }

    public IServiceProvider Services => _host.Services;

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>Runs every stage on a copy of <paramref name="pdfPath"/> in a fresh work folder.</summary>
    public Task<ResultSubmission> RunAsync(string pdfPath) => RunAsync(File.ReadAllBytes(pdfPath), Path.GetFileName(pdfPath));

    public async Task<ResultSubmission> RunAsync(byte[] content, string fileName)
    {
        var work = Directory.CreateTempSubdirectory("suite-stage-test-");
        try
        {
            var context = new StageContext("doc-" + Guid.NewGuid().ToString("N")[..8], fileName, work.FullName);
            await File.WriteAllBytesAsync(context.ContentPath, content);
            return await Pipeline.RunLocallyAsync(context, CancellationToken.None);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Runs the pipeline and returns the failure code it ends with (fails the test if it succeeds).</summary>
    public async Task<PipelineFailure> FailureOfAsync(string corpusName)
    {
        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => RunAsync(RepoPaths.CorpusFile(corpusName)));
        return failure;
    }

    public void Dispose() => _host.Dispose();
}
