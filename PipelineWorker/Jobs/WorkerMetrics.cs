using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Suite.PipelineWorker.Jobs;

/// <summary>The worker's own metrics (meter <c>Suite.PipelineWorker</c>) and its trace source.</summary>
internal sealed class WorkerMetrics
{
    public const string MeterName = "Suite.PipelineWorker";

    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly Counter<long> _jobs;
    private readonly Counter<long> _taken;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _lostEntries;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _deadLetters;
    private readonly Histogram<double> _stageDuration;

    public WorkerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _jobs = meter.CreateCounter<long>("suite.worker.jobs", "{job}", "Jobs handled, by outcome (completed, failed, lease_lost, transient, ...)");
        _taken = meter.CreateCounter<long>("suite.worker.jobs.taken", "{job}",
            "New jobs taken from the streams, by priority and aged (true: a batch job taken before interactive ones because it waited past the maximum)");
        _failures = meter.CreateCounter<long>("suite.worker.job_failures", "{job}", "Documents failed permanently, by failure code");
        _lostEntries = meter.CreateCounter<long>("suite.worker.lost_entries", "{entry}", "Pending entries whose stream entry was deleted (lost jobs)");
        _retries = meter.CreateCounter<long>("suite.worker.retries", "{job}", "Jobs put in the retry set, by kind (retry: a counted attempt; wait: not counted)");
        _deadLetters = meter.CreateCounter<long>("suite.worker.dead_letters", "{job}", "Jobs moved to the dead-letter stream after their deliveries ran out");
        _stageDuration = meter.CreateHistogram<double>(
            "suite.worker.stage.duration",
            "s",
            "Duration of pipeline stages, by stage and outcome (completed, degraded, skipped, failed, timeout, transient, cancelled)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
    }

    public void JobHandled(JobOutcome outcome) => _jobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToMetricName()));

    public void JobTaken(string priority, bool aged) => _taken.Add(1,
        new KeyValuePair<string, object?>("priority", priority),
        new KeyValuePair<string, object?>("aged", aged));

    public void DocumentFailed(string code) => _failures.Add(1, new KeyValuePair<string, object?>("code", code));

    public void EntryLost() => _lostEntries.Add(1);

    public void Retried(JobOutcome kind) => _retries.Add(1, new KeyValuePair<string, object?>("kind", kind.ToMetricName()));

    public void DeadLettered() => _deadLetters.Add(1);

    public void StageFinished(string stage, string outcome, TimeSpan duration) => _stageDuration.Record(
        duration.TotalSeconds,
        new KeyValuePair<string, object?>("stage", stage),
        new KeyValuePair<string, object?>("outcome", outcome));
}
