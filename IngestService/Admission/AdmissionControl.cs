using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using IngestService.Api;
using IngestService.Catalog;
using IngestService.Storage;
using Microsoft.Extensions.Options;

namespace IngestService.Admission;

/// <summary>The levels admission looks at, measured together.</summary>
internal sealed record AdmissionLevels(long QueuedDocuments, long FreeDiskBytes, double MemoryLoadPercent);

/// <summary>
/// Decides whether a new upload is taken, before its body is read (Req LS-1, LS-5): memory pressure first (503), then
/// low disk (507), then the number of documents waiting (429). Every decision is counted by outcome, and the last
/// levels and refusal are kept for the readiness details and the gauges (Req LS-7).
/// </summary>
internal sealed class AdmissionControl : IDisposable
{
    public const string MeterName = "Suite.Admission";

    private readonly DocumentQueueDepth _queue;
    private readonly IOptionsMonitor<AdmissionOptions> _options;
    private readonly string _storageRoot;
    private readonly TimeProvider _time;
    private readonly Meter _meter;
    private readonly Counter<long> _decisions;
    // Bounded by construction: one counter per refusal code (memory_pressure, disk_space_low, queue_full).
    private readonly ConcurrentDictionary<string, long> _refusals = new(StringComparer.Ordinal);

    // One reading, replaced by the next measurement.
    private AdmissionLevels? _last;

    public AdmissionControl(
        DocumentQueueDepth queue, IOptionsMonitor<AdmissionOptions> options, IOptions<StorageOptions> storage, TimeProvider time, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(meters);
        _queue = queue;
        _options = options;
        _storageRoot = storage.Value.Root;
        _time = time;
        _meter = meters.Create(MeterName);
        _decisions = _meter.CreateCounter<long>("suite.admission.decisions", "{decision}", "Upload admission decisions by outcome (admitted, or the refusal code)");
        _meter.CreateObservableGauge("suite.admission.queued_documents", () => Observe(l => l.QueuedDocuments), "{document}", "Documents waiting to be processed, as admission last measured them");
        _meter.CreateObservableGauge("suite.admission.queued_documents.limit", () => (long)_options.CurrentValue.MaxQueuedDocuments, "{document}", "Waiting documents above which uploads are refused");
        _meter.CreateObservableGauge("suite.admission.free_disk", () => Observe(l => l.FreeDiskBytes), "By", "Free bytes on the storage root's file system");
        _meter.CreateObservableGauge("suite.admission.free_disk.limit", () => _options.CurrentValue.MinFreeDiskBytes, "By", "Free bytes below which uploads are refused");
        _meter.CreateObservableGauge("suite.admission.memory_load", () => Observe(l => l.MemoryLoadPercent), "%", "GC memory load, percent of the memory available to the process");
        _meter.CreateObservableGauge("suite.admission.memory_load.limit", () => (double)_options.CurrentValue.MaxMemoryLoadPercent, "%", "Memory load above which uploads are refused");
    }

    /// <summary>The last refusal (code and time), if any.</summary>
    public (string Code, DateTimeOffset At)? LastRefusal { get; private set; }

    public IReadOnlyDictionary<string, long> Refusals => _refusals;

    public AdmissionOptions Limits => _options.CurrentValue;

    /// <summary>Null when the upload may go ahead, else the problem to answer with.</summary>
    public async Task<IResult?> CheckAsync(CancellationToken cancellationToken)
    {
        var limits = _options.CurrentValue;
        var levels = await MeasureAsync(cancellationToken);
        IResult? refusal = null;
        string outcome;
        if (levels.MemoryLoadPercent > limits.MaxMemoryLoadPercent)
        {
            outcome = "memory_pressure";
            refusal = IngestProblems.MemoryPressure(levels.MemoryLoadPercent, limits.MaxMemoryLoadPercent, TimeSpan.FromSeconds(limits.MemoryPressureRetryAfterSeconds));
        }
        else if (levels.FreeDiskBytes < limits.MinFreeDiskBytes)
        {
            outcome = "disk_space_low";
            refusal = IngestProblems.DiskSpaceLow(levels.FreeDiskBytes, limits.MinFreeDiskBytes);
        }
        else if (levels.QueuedDocuments >= limits.MaxQueuedDocuments)
        {
            outcome = "queue_full";
            refusal = IngestProblems.QueueFull(levels.QueuedDocuments, limits.MaxQueuedDocuments, TimeSpan.FromSeconds(limits.QueueFullRetryAfterSeconds));
        }
        else
        {
            outcome = "admitted";
        }

        _decisions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (refusal is not null)
        {
            _refusals.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            LastRefusal = (outcome, _time.GetUtcNow());
        }

        return refusal;
    }

    /// <summary>Measures the levels now (one indexed COUNT on the catalog, a statfs, the GC's last reading).</summary>
    public async Task<AdmissionLevels> MeasureAsync(CancellationToken cancellationToken)
    {
        var memory = GC.GetGCMemoryInfo();
        var memoryLoad = memory.TotalAvailableMemoryBytes > 0 ? 100.0 * memory.MemoryLoadBytes / memory.TotalAvailableMemoryBytes : 0;
        var free = new DriveInfo(Path.GetFullPath(_storageRoot)).AvailableFreeSpace;
        var queued = await _queue.CountWaitingAsync(cancellationToken);
        var levels = new AdmissionLevels(queued, free, Math.Round(memoryLoad, 1));
        _last = levels;
        return levels;
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<AdmissionLevels, T> value)
        where T : struct =>
        _last is { } levels ? [new Measurement<T>(value(levels))] : [];

    public void Dispose() => _meter.Dispose();
}
