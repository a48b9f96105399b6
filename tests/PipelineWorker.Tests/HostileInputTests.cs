using System.Diagnostics;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace PipelineWorker.Tests;

/// <summary>
/// Hostile inputs of each new format end with their own failure code, quickly, and without the worker's memory
/// growing with what the file claims (FMT-1, IN-3).
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);
    private const long MemoryBound = 400L * 1024 * 1024;
    private readonly StagePipeline _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    public static TheoryData<string, string> Cases => new()
    {
        { "zip-bomb", FailureCodes.ZipBomb },
        { "billion-laughs", FailureCodes.XmlEntityExpansion },
        { "external-relationship", FailureCodes.ExternalReference },
        { "deep-html", FailureCodes.NestingTooDeep },
        { "deep-markdown", FailureCodes.NestingTooDeep },
        { "huge-png", FailureCodes.ImageTooLarge },
    };

    [Theory]
    [Trait("Req", "FMT-1")]
    [Trait("Req", "IN-3")]
    [Trait("Req", "IN-5")]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_file_ends_with_its_own_code_within_its_budget_and_bounded_memory(string name, string code)
    {
        var content = name switch
        {
            "zip-bomb" => HostileInputs.ZipBomb(),
            "billion-laughs" => HostileInputs.BillionLaughs(),
            "external-relationship" => HostileInputs.ExternalRelationship(hyperlinkOnly: false),
            "deep-html" => HostileInputs.DeepHtml(),
            "deep-markdown" => HostileInputs.DeepMarkdown(),
            _ => HostileInputs.HugePng(),
        };
        using var timeout = new CancellationTokenSource(Budget);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<PipelineFailure>(() => _pipeline.RunAsync(content, name, timeout.Token));

        Assert.Equal(code, failure.Code);
        Assert.Equal(PipelineStageNames.Validate, failure.Stage);
        Assert.True(clock.Elapsed < Budget, $"took {clock.Elapsed}");
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(allocated < MemoryBound, $"allocated {allocated / (1024 * 1024)} MiB");
        Assert.DoesNotContain("Exception", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Req", "FMT-1")]
    public async Task A_hyperlink_is_harmless_and_kept_as_its_text()
    {
        var run = await _pipeline.RunAsync(HostileInputs.ExternalRelationship(hyperlinkOnly: true), "link.docx");

        Assert.Equal(DocumentFormats.Docx, run.Result.Format);
        Assert.Contains("the council site", run.Text, StringComparison.Ordinal);
    }
}
