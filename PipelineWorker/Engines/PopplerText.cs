using System.Globalization;
using System.Xml;
using Suite.PipelineWorker.Pdf;

namespace Suite.PipelineWorker.Engines;

/// <summary>
/// poppler's text side, for what PdfPig cannot read: <c>pdfinfo</c> (page count, boxes, rotation) and
/// <c>pdftotext -bbox-layout</c> (one page's words with boxes). Each call is one process through
/// <see cref="ProcessRunner"/> (timeout, process group killed), behind the <c>text-fallback</c> breaker. Throws
/// <see cref="EngineException"/>: <c>Unreadable</c> when poppler cannot read the file either (that does not count
/// against the breaker: it is the file, not the engine), <c>NotFound</c>, <c>Timeout</c>, <c>Failed</c> (crash,
/// oversized or malformed output), <c>CircuitOpen</c>.
/// </summary>
internal sealed class PopplerText(ProcessRunner runner, EngineRegistry engines, EngineBreakers breakers)
{
    /// <summary>One page's XHTML: far above any real page (about 200 bytes a word), low enough to hold in memory.</summary>
    private const int MaxPageOutputBytes = 16 * 1024 * 1024;

    /// <summary>pdfinfo prints about 400 bytes a page with -box; callers ask for bounded page ranges.</summary>
    private const int MaxInfoOutputBytes = 4 * 1024 * 1024;

    /// <summary>pdfinfo on the file; with <paramref name="boxes"/>, also the boxes of those pages (first..last, clamped by poppler).</summary>
    public async Task<PdfinfoReport> DescribeAsync(string pdfPath, (int First, int Last)? boxes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var engine = await engines.InfoReaderAsync();
        var args = new List<string>();
        if (boxes is { } range)
        {
            args.AddRange(["-box", "-f", Text(range.First), "-l", Text(range.Last)]);
        }

        args.Add(pdfPath);
        var run = await RunAsync(engine, args, MaxInfoOutputBytes, timeout, cancellationToken);
        return PdfinfoReport.Parse(run.StandardOutput);
    }

    /// <summary>The lines and words of page <paramref name="pageNumber"/> as pdftotext finds them.</summary>
    public async Task<IReadOnlyList<PopplerLine>> ReadPageAsync(string pdfPath, int pageNumber, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var engine = await engines.TextReaderAsync();
        var page = Text(pageNumber);
        var run = await RunAsync(engine, ["-bbox-layout", "-enc", "UTF-8", "-f", page, "-l", page, pdfPath, "-"], MaxPageOutputBytes, timeout, cancellationToken);
        try
        {
            return BboxLayoutReader.Parse(run.StandardOutput, MaxPageOutputBytes);
        }
        catch (XmlException ex)
        {
            throw new EngineException(EngineFailureKind.Failed, $"pdftotext's output for page {pageNumber} is not well-formed XHTML: {ex.Message}", ex);
        }
    }

    private async Task<ProcessResult> RunAsync(EngineStatus engine, IReadOnlyList<string> args, int maxOutput, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!engine.Available)
        {
            throw new EngineException(EngineFailureKind.NotFound, engine.Unavailable);
        }

        var run = await breakers.ExecuteAsync(EngineBreakers.TextFallback, async ct =>
        {
            var result = await runner.RunAsync(new ProcessSpec(engine.Path!, args) { MaxStandardOutputBytes = maxOutput }, timeout, ct);
            // poppler's own exit codes (1 open error, 3 permissions, 99 other) are about the file; a signal (128 + n) is a crash.
            if (result.ExitCode is < 0 or >= 128)
            {
                throw new EngineException(EngineFailureKind.Failed, $"{engine.Name} crashed (exit code {result.ExitCode}){ProcessRunner.Suffix(result.StandardError)}");
            }

            return result;
        }, cancellationToken);

        if (run.ExitCode != 0)
        {
            throw new EngineException(EngineFailureKind.Unreadable, $"{engine.Name} cannot read the file either (exit code {run.ExitCode}){ProcessRunner.Suffix(run.StandardError)}");
        }

        // Outside the breaker: an oversized page is the file's doing, not the engine's.
        return run.OutputTruncated
            ? throw new EngineException(EngineFailureKind.Failed, $"{engine.Name} wrote more than {maxOutput} bytes; its output was not used.")
            : run;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
