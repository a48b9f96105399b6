using System.Diagnostics;
using Suite.Contracts;
using Suite.PipelineWorker.Stages;

namespace PipelineWorker.Tests;

/// <summary>
/// Hostile inputs of each new format end with their own failure code, quickly, and without the worker's memory
/// growing with what the file claims (FMT-1, IN-3).
/// </summary>
// Its memory bound reads the allocations of the whole process, which tests running in parallel would add to.
[Collection(ProcessWideMeasurements.Name)]
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
    [Trait("Req", "IN-5")]
    public async Task A_zip_entry_that_declares_less_than_it_expands_is_never_expanded_beyond_what_it_declares()
    {
        // 64 MiB of zeros declared as 1000 bytes: the directory's checks pass; the reads stop at the declared size
        // (and SafePackage counts what it reads against the limits as well), so the document is read, in bounded memory.
        var content = HostileInputs.LyingZipBomb();
        // What the platform does with such an entry: it reads no further than the declared size.
        using (var archive = new System.IO.Compression.ZipArchive(new MemoryStream(content)))
        using (var entry = archive.GetEntry("word/media/zeros.bin")!.Open())
        {
            Assert.Equal(1000, await CountAsync(entry));
        }

        using var timeout = new CancellationTokenSource(Budget);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        var run = await _pipeline.RunAsync(content, "lying.docx", timeout.Token);

        Assert.Equal(DocumentFormats.Docx, run.Result.Format);
        Assert.True(clock.Elapsed < Budget, $"took {clock.Elapsed}");
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(allocated < 32L * 1024 * 1024, $"allocated {allocated / (1024 * 1024)} MiB: more than the entry declared was expanded");
    }

    [Fact]
    [Trait("Req", "FMT-1")]
    public async Task A_hyperlink_is_harmless_and_kept_as_its_text()
    {
        var run = await _pipeline.RunAsync(HostileInputs.ExternalRelationship(hyperlinkOnly: true), "link.docx");

        Assert.Equal(DocumentFormats.Docx, run.Result.Format);
        Assert.Contains("the council site", run.Text, StringComparison.Ordinal);
    }

    private static async Task<long> CountAsync(Stream stream)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }
}

/// <summary>Tests that measure the whole process (allocated bytes): they run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMeasurements
{
    public const string Name = "process-wide measurements";
}
