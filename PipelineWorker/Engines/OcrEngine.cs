using System.Globalization;

namespace Suite.PipelineWorker.Engines;

/// <summary>A word tesseract recognised, with its box in image pixels (origin top-left) and its confidence (0-100).</summary>
internal sealed record OcrWord(string Text, int Left, int Top, int Width, int Height, double Confidence, int Block, int Paragraph, int Line);

/// <summary>
/// Runs <c>tesseract image stdout tsv</c> on one rendered page and parses the words with their boxes.
/// Single-threaded (<c>OMP_THREAD_LIMIT=1</c>): tesseract's own threads only add contention when pages run in
/// parallel, which is how the ocr stage uses it.
/// </summary>
internal sealed class OcrEngine(ProcessRunner runner, EngineRegistry engines, EngineBreakers breakers)
{
    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal) { ["OMP_THREAD_LIMIT"] = "1" };

    public async Task<IReadOnlyList<OcrWord>> RecognizeAsync(string imagePath, string language, double dpi, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var engine = await engines.OcrAsync();
        if (!engine.Available)
        {
            throw new EngineException(EngineFailureKind.NotFound, engine.Unavailable);
        }

        string[] args = [imagePath, "stdout", "-l", language, "--psm", "3", "--dpi", ((int)Math.Round(dpi)).ToString(CultureInfo.InvariantCulture), "tsv"];
        return await breakers.ExecuteAsync(EngineBreakers.Ocr, async ct =>
        {
            var run = await runner.RunAsync(
                new ProcessSpec(engine.Path!, args) { Environment = Environment, MaxStandardOutputBytes = 16 * 1024 * 1024 },
                timeout,
                ct);
            if (run.ExitCode != 0)
            {
                throw new EngineException(EngineFailureKind.Failed, $"tesseract failed (exit code {run.ExitCode}){ProcessRunner.Suffix(run.StandardError)}");
            }

            return ParseTsv(run.StandardOutput);
        }, cancellationToken);
    }

    /// <summary>Word rows (level 5) of tesseract's TSV: level page block par line word left top width height conf text.</summary>
    public static IReadOnlyList<OcrWord> ParseTsv(string tsv)
    {
        ArgumentNullException.ThrowIfNull(tsv);
        var words = new List<OcrWord>();
        foreach (var line in tsv.Split('\n'))
        {
            var f = line.TrimEnd('\r').Split('\t');
            if (f.Length < 12 || f[0] != "5" || string.IsNullOrWhiteSpace(f[11]))
            {
                continue;
            }

            if (!double.TryParse(f[10], NumberStyles.Float, CultureInfo.InvariantCulture, out var confidence) || confidence < 0)
            {
                continue;
            }

            words.Add(new OcrWord(
                f[11].Trim(),
                Int(f[6]),
                Int(f[7]),
                Int(f[8]),
                Int(f[9]),
                confidence,
                Int(f[2]),
                Int(f[3]),
                Int(f[4])));
        }

        return words;
    }

    private static int Int(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
