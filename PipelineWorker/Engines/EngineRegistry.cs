using Microsoft.Extensions.Options;
using Suite.ServiceDefaults.Lifecycle;

namespace Suite.PipelineWorker.Engines;

/// <summary>What the probe found out about one engine.</summary>
internal sealed record EngineStatus(string Name, bool Available, string? Path, string? Version, string? Problem)
{
    /// <summary>Why a stage could not use it, for the result's degradation reason.</summary>
    public string Unavailable => $"{Name} is not available: {Problem}";
}

/// <summary>
/// The external engines and whether they work, probed once (at start-up by <see cref="EngineProbeService"/>, or on
/// first use when the host was never started). A missing engine degrades the stages that need it; it never stops
/// the worker (SU-4).
/// </summary>
internal sealed partial class EngineRegistry
{
    public const string Pdftoppm = "pdftoppm";
    public const string Tesseract = "tesseract";
    public const string Pdftotext = "pdftotext";
    public const string Pdfinfo = "pdfinfo";

    // Bounded by construction: four probes, memoized for the process (the installed engines; a new one takes a restart).
    private readonly Lazy<Task<EngineStatus>> _renderer;
    private readonly Lazy<Task<EngineStatus>> _ocr;
    private readonly Lazy<Task<EngineStatus>> _text;
    private readonly Lazy<Task<EngineStatus>> _info;

    public EngineRegistry(ProcessRunner runner, IOptions<EngineOptions> options, ILogger<EngineRegistry> logger)
    {
        var o = options.Value;
        var timeout = TimeSpan.FromSeconds(o.ProbeTimeoutSeconds);
        _renderer = new(() => ProbeAsync(runner, logger, Pdftoppm, o.PdftoppmPath, nameof(o.PdftoppmPath), ["-v"], timeout));
        _ocr = new(() => ProbeAsync(runner, logger, Tesseract, o.TesseractPath, nameof(o.TesseractPath), ["--version"], timeout));
        _text = new(() => ProbeAsync(runner, logger, Pdftotext, o.PdftotextPath, nameof(o.PdftotextPath), ["-v"], timeout));
        _info = new(() => ProbeAsync(runner, logger, Pdfinfo, o.PdfinfoPath, nameof(o.PdfinfoPath), ["-v"], timeout));
    }

    public Task<EngineStatus> RendererAsync() => _renderer.Value;

    public Task<EngineStatus> OcrAsync() => _ocr.Value;

    /// <summary>pdftotext: the words of a page PdfPig cannot read.</summary>
    public Task<EngineStatus> TextReaderAsync() => _text.Value;

    /// <summary>pdfinfo: page count and boxes of a document PdfPig cannot read.</summary>
    public Task<EngineStatus> InfoReaderAsync() => _info.Value;

    /// <summary>Every engine, probing them if that has not happened yet.</summary>
    public async Task<IReadOnlyList<EngineStatus>> AllAsync() => [await RendererAsync(), await OcrAsync(), await TextReaderAsync(), await InfoReaderAsync()];

    private static async Task<EngineStatus> ProbeAsync(ProcessRunner runner, ILogger logger, string name, string configured, string option, string[] arguments, TimeSpan timeout)
    {
        var path = ExecutableLocator.Find(configured);
        if (path is null)
        {
            var status = new EngineStatus(name, false, null, null, configured.Contains('/', StringComparison.Ordinal)
                ? $"{configured} does not exist"
                : $"'{configured}' was not found on PATH (install it, or set Pipeline:Engines:{option})");
            LogMissing(logger, name, status.Problem!);
            return status;
        }

        try
        {
            var result = await runner.RunAsync(new ProcessSpec(path, arguments) { MaxStandardOutputBytes = 4096 }, timeout, CancellationToken.None);
            // poppler's tools print their version on stderr, tesseract on stdout.
            var version = (result.StandardOutput + "\n" + result.StandardError)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(l => l.Contains("version", StringComparison.OrdinalIgnoreCase) || l.StartsWith(name, StringComparison.Ordinal));
            if (result.ExitCode != 0)
            {
                var status = new EngineStatus(name, false, path, null, $"{path} {string.Join(' ', arguments)} exited with {result.ExitCode}{ProcessRunner.Suffix(result.StandardError)}");
                LogMissing(logger, name, status.Problem!);
                return status;
            }

            LogFound(logger, name, path, version ?? "unknown version");
            return new EngineStatus(name, true, path, version, null);
        }
        catch (EngineException ex)
        {
            LogMissing(logger, name, ex.Message);
            return new EngineStatus(name, false, path, null, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Engine {Engine} found at {Path}: {Version}")]
    private static partial void LogFound(ILogger logger, string engine, string path, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Engine {Engine} is unavailable, its stages will be degraded: {Problem}")]
    private static partial void LogMissing(ILogger logger, string engine, string problem);
}

/// <summary>
/// Start-up step: probes the engines in the background (the server already listens), so readiness reports a missing
/// one as soon as start-up is done. A missing engine is a result, not a failure: the step always completes.
/// </summary>
internal sealed class EngineProbeService(EngineRegistry engines) : IStartupStep
{
    public string Name => "probing engines";

    public async Task RunAsync(CancellationToken cancellationToken) => await engines.AllAsync().WaitAsync(cancellationToken);
}
