using System.Diagnostics.Metrics;

namespace IngestService.Webhooks;

/// <summary>
/// Webhook metrics (meter <c>Suite.IngestService.Webhooks</c>): rounds by outcome (<c>ingest.webhooks.deliveries</c>:
/// delivered, retry_scheduled, dead_lettered, breaker_open), HTTP attempts by result (<c>ingest.webhooks.attempts</c>:
/// success, failure), and the outbox's pending deliveries as last counted by the dispatcher (<c>ingest.webhooks.pending</c>).
/// </summary>
internal sealed class WebhookMetrics : IDisposable
{
    public const string MeterName = "Suite.IngestService.Webhooks";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _attempts;
    private long _pending;

    public WebhookMetrics()
    {
        _deliveries = _meter.CreateCounter<long>("ingest.webhooks.deliveries", description: "Webhook delivery rounds by outcome");
        _attempts = _meter.CreateCounter<long>("ingest.webhooks.attempts", description: "Webhook HTTP attempts by result");
        _meter.CreateObservableGauge("ingest.webhooks.pending", () => Interlocked.Read(ref _pending), description: "Webhook deliveries pending in the outbox");
    }

    public long Pending => Interlocked.Read(ref _pending);

    public void Round(string outcome) => _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Attempt(bool success) => _attempts.Add(1, new KeyValuePair<string, object?>("result", success ? "success" : "failure"));

    public void SetPending(long pending) => Interlocked.Exchange(ref _pending, pending);

    public void Dispose() => _meter.Dispose();
}
