using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace IngestService.Ocr;

/// <summary>The tesseract languages an upload may ask for, and where the list came from.</summary>
internal sealed record OcrLanguageList(IReadOnlyList<string> Languages, string Source, string? Problem = null)
{
    public const string FromConfiguration = "configuration";
    public const string FromTesseract = "tesseract";
}

/// <summary>
/// The installed tesseract languages: the configured list (<c>Ocr:Languages</c>), else what the local
/// <c>tesseract --list-langs</c> prints, kept for <c>Ocr:CacheSeconds</c> (a failed run is kept for a tenth of that, so
/// a missing tesseract is not asked on every upload). The upload validates <c>ocrLanguages</c> against the same list
/// that <c>GET /api/ocr/languages</c> shows. <c>osd</c> (orientation detection, not a language) is left out.
/// </summary>
internal sealed partial class OcrLanguages(IOptions<OcrLanguageOptions> options, TimeProvider time, ILogger<OcrLanguages> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (OcrLanguageList List, DateTimeOffset Until)? _cached;

    public async Task<OcrLanguageList> GetAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Languages.Count > 0)
        {
            return new OcrLanguageList(Normalize(o.Languages), OcrLanguageList.FromConfiguration);
        }

        if (_cached is { } hit && hit.Until > time.GetUtcNow())
        {
            return hit.List;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } again && again.Until > time.GetUtcNow())
            {
                return again.List;
            }

            var list = await ListAsync(o, cancellationToken);
            var keep = TimeSpan.FromSeconds(list.Problem is null ? o.CacheSeconds : Math.Max(1, o.CacheSeconds / 10));
            _cached = (list, time.GetUtcNow() + keep);
            return list;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<OcrLanguageList> ListAsync(OcrLanguageOptions o, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(o.TesseractPath, "--list-langs")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(start) ?? throw new Win32Exception("the process did not start");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(o.ListTimeoutSeconds));
            try
            {
                // Both streams read at once, so a full stderr pipe cannot stall the process.
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var errors = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token);
                // tesseract 4 printed the list on stderr, 5 on stdout.
                var text = await output + "\n" + await errors;
                var languages = Normalize(text.Split('\n').Where(line => !line.Contains(' ', StringComparison.Ordinal) && !line.EndsWith(':')));
                return process.ExitCode == 0
                    ? new OcrLanguageList(languages, OcrLanguageList.FromTesseract)
                    : Failed($"'{o.TesseractPath} --list-langs' exited with code {process.ExitCode}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return Failed($"'{o.TesseractPath} --list-langs' did not answer within {o.ListTimeoutSeconds} s");
            }
        }
        catch (Win32Exception ex)
        {
            return Failed($"'{o.TesseractPath}' could not be run ({ex.Message}); set Ocr:Languages to the workers' languages");
        }
    }

    private OcrLanguageList Failed(string problem)
    {
        LogListFailed(problem);
        return new OcrLanguageList([], OcrLanguageList.FromTesseract, problem);
    }

    /// <summary>Trimmed, without blanks, duplicates and osd, sorted.</summary>
    private static List<string> Normalize(IEnumerable<string> languages) =>
        languages.Select(l => l.Trim()).Where(l => l.Length > 0 && l != "osd" && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The installed OCR languages are not known: {Problem}")]
    private partial void LogListFailed(string problem);
}
