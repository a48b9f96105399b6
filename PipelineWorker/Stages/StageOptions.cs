using Suite.PipelineWorker.Jobs;

namespace Suite.PipelineWorker.Stages;

/// <summary>What every stage can be given (section <c>Pipeline:{Stage}</c>): an on/off switch and its own timeout.</summary>
internal abstract class StageOptions
{
    /// <summary>Off: the stage reports <c>skipped</c> ("switched off by configuration") and its fallback is used (DEG-6).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The stage's own timeout (bounded by the worker's Worker:StageTimeouts:{stage} / Worker:StageTimeoutSeconds).</summary>
    public int TimeoutSeconds { get; set; } = 120;

    public virtual IEnumerable<string> Validate(string section)
    {
        if (TimeoutSeconds is < 1 or > 86_400)
        {
            yield return $"{section}:TimeoutSeconds is {TimeoutSeconds}; it must be between 1 and 86400.";
        }
    }
}

internal sealed class RenderOptions : StageOptions
{
    public const string Section = "Pipeline:Render";

    /// <summary>Resolution of the page images.</summary>
    public double Dpi { get; set; } = 120;

    /// <summary>Largest page image in pixels (width × height); larger pages are rendered at a lower DPI.</summary>
    public long MaxPixels { get; set; } = 4_000_000;

    /// <summary>One pdftoppm run (one page) may take this long; then its process group is killed and the page has no image.</summary>
    public int PageTimeoutSeconds { get; set; } = 30;

    /// <summary>Pages rendered at the same time.</summary>
    public int MaxParallelism { get; set; } = 2;

    public override IEnumerable<string> Validate(string section) => base.Validate(section).Concat(Checks(section));

    private IEnumerable<string> Checks(string section)
    {
        if (Dpi is < 10 or > 1200 || MaxPixels is < 10_000 or > 200_000_000 || PageTimeoutSeconds is < 1 or > 3600 || MaxParallelism is < 1 or > 64)
        {
            yield return $"{section}: Dpi 10-1200, MaxPixels 10000-200000000, PageTimeoutSeconds 1-3600, MaxParallelism 1-64.";
        }
    }
}

internal sealed class OcrOptions : StageOptions
{
    public const string Section = "Pipeline:Ocr";

    /// <summary>Resolution the pages are rendered at for tesseract.</summary>
    public double Dpi { get; set; } = 300;

    public long MaxPixels { get; set; } = 12_000_000;

    /// <summary>tesseract language(s), e.g. <c>eng</c> or <c>eng+deu</c>.</summary>
    public string Language { get; set; } = "eng";

    /// <summary>A page whose text layer has fewer non-space characters than this is OCRed.</summary>
    public int MinTextLayerChars { get; set; } = 20;

    /// <summary>At most this many pages of one document are OCRed (bounds the cost); more is reported as degraded.</summary>
    public int MaxPages { get; set; } = 50;

    /// <summary>Pages OCRed at the same time (each tesseract is single-threaded).</summary>
    public int MaxParallelism { get; set; } = 2;

    /// <summary>Rendering plus recognition of one page may take this long (each process killed with its group on expiry).</summary>
    public int PageTimeoutSeconds { get; set; } = 60;

    /// <summary>Words recognised with a lower confidence (0-100) are dropped as noise.</summary>
    public double MinConfidence { get; set; } = 30;

    public override IEnumerable<string> Validate(string section) => base.Validate(section).Concat(Checks(section));

    private IEnumerable<string> Checks(string section)
    {
        if (Dpi is < 50 or > 1200 || MaxPixels is < 10_000 or > 200_000_000 || MaxPages < 0 || MaxParallelism is < 1 or > 64
            || PageTimeoutSeconds is < 1 or > 3600 || MinConfidence is < 0 or > 100 || MinTextLayerChars < 0)
        {
            yield return $"{section}: Dpi 50-1200, MaxPixels 10000-200000000, MaxPages >= 0, MaxParallelism 1-64, PageTimeoutSeconds 1-3600, MinConfidence 0-100, MinTextLayerChars >= 0.";
        }

        if (string.IsNullOrWhiteSpace(Language) || !Language.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '_'))
        {
            yield return $"{section}:Language must be tesseract language names joined by '+', e.g. eng or eng+deu.";
        }
    }
}

internal sealed class LayoutOptions : StageOptions
{
    public const string Section = "Pipeline:Layout";
}

internal sealed class ReadingOrderOptions : StageOptions
{
    public const string Section = "Pipeline:ReadingOrder";
}

internal sealed class TablesOptions : StageOptions
{
    public const string Section = "Pipeline:Tables";
}

internal sealed class PicturesOptions : StageOptions
{
    public const string Section = "Pipeline:Pictures";

    /// <summary>Images smaller than this (points, either side) are decoration, not pictures.</summary>
    public double MinSizePoints { get; set; } = 24;

    /// <summary>At most this many pictures per document are stored.</summary>
    public int MaxPictures { get; set; } = 500;

    /// <summary>Pictures are cropped from the page at this resolution when their own bytes are not PNG or JPEG.</summary>
    public double CropDpi { get; set; } = 150;

    public long CropMaxPixels { get; set; } = 4_000_000;

    public int CropTimeoutSeconds { get; set; } = 30;

    public override IEnumerable<string> Validate(string section) => base.Validate(section).Concat(Checks(section));

    private IEnumerable<string> Checks(string section)
    {
        if (MinSizePoints < 0 || MaxPictures < 0 || CropDpi is < 10 or > 1200 || CropMaxPixels < 10_000 || CropTimeoutSeconds is < 1 or > 3600)
        {
            yield return $"{section}: MinSizePoints >= 0, MaxPictures >= 0, CropDpi 10-1200, CropMaxPixels >= 10000, CropTimeoutSeconds 1-3600.";
        }
    }
}

internal sealed class AssembleOptions : StageOptions
{
    public const string Section = "Pipeline:Assemble";
}

/// <summary>
/// A stage's time limit: its own timeout, but never beyond the worker's stage timeout (less a margin, so that an
/// optional stage can still write what it has and report <c>degraded</c> before the worker gives up on it).
/// </summary>
internal sealed class StageClock : IDisposable
{
    private readonly CancellationTokenSource _own;
    private readonly CancellationTokenSource _linked;
    private readonly CancellationToken _outer;

    private StageClock(TimeSpan limit, CancellationToken outer)
    {
        Limit = limit;
        _outer = outer;
        _own = new CancellationTokenSource(limit);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(outer, _own.Token);
    }

    public TimeSpan Limit { get; }

    /// <summary>Cancelled at the stage's own limit or when the caller cancels.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>The stage's own limit was reached (not the caller's cancellation).</summary>
    public bool Expired => _own.IsCancellationRequested && !_outer.IsCancellationRequested;

    public static StageClock Start(string stage, int ownTimeoutSeconds, WorkerOptions worker, CancellationToken outer)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var workerLimit = worker.StageTimeoutFor(stage);
        var margin = TimeSpan.FromSeconds(Math.Clamp(workerLimit.TotalSeconds * 0.1, 0.5, 10));
        var limit = TimeSpan.FromSeconds(Math.Min(ownTimeoutSeconds, Math.Max(0.5, (workerLimit - margin).TotalSeconds)));
        return new StageClock(limit, outer);
    }

    public string Describe() => $"{Limit.TotalSeconds:0.#} s";

    public void Dispose()
    {
        _linked.Dispose();
        _own.Dispose();
    }
}
