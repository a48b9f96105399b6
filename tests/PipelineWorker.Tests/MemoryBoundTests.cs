using System.Diagnostics;
using Suite.Testing;

namespace PipelineWorker.Tests;

/// <summary>
/// PERF-5: a long document does not need all its pages in memory. The pipeline runs, exactly as a worker runs it,
/// in a child process whose garbage-collected heap is capped (DOTNET_GCHeapHardLimit), on a generated 1000-page PDF:
/// it must complete, with every page in the result. Before assemble streamed its renderings to files, 400 pages did
/// not fit in twice this cap. Rendering is off here: it keeps no page image in memory (each goes from pdftoppm's
/// file to IngestService), and running it would only make the test slow.
/// </summary>
public sealed class MemoryBoundTests
{
    private const int Pages = 1000;
    private const string HeapCap = "0x3000000"; // 48 MiB

    [Fact]
    [Trait("Req", "PERF-5")]
    public async Task A_1000_page_document_completes_with_the_heap_capped_at_48_MiB()
    {
        var work = Directory.CreateTempSubdirectory("suite-memory-");
        try
        {
            var pdf = Path.Combine(work.FullName, "long.pdf");
            await File.WriteAllBytesAsync(pdf, GeneratedReport.Build(Pages));

            // The benchmark console is built beside this test assembly (same configuration folder).
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Name;
            var benchmark = Path.Combine(RepoPaths.RepoRoot, "artifacts", "bin", "PipelineWorker.Benchmarks", configuration, "PipelineWorker.Benchmarks.dll");
            Assert.True(File.Exists(benchmark), $"build tests/PipelineWorker.Benchmarks first: {benchmark} is missing");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { benchmark, "--single", Pages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--input", pdf })
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["DOTNET_GCHeapHardLimit"] = HeapCap;
            start.Environment["Pipeline__Render__Enabled"] = "false";
            using var child = Process.Start(start)!;
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                throw;
            }

            var output = await stdout;
            var errors = await stderr;
            Assert.True(child.ExitCode == 0, $"the pipeline did not complete under a {HeapCap}-byte heap (exit {child.ExitCode}):\n{output}\n{errors}");
            // The benchmark line starts with the page count, which it checked against the result's own.
            Assert.StartsWith($"{Pages} |", output.Trim(), StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
