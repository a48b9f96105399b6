using System.Diagnostics.Metrics;

namespace LabelingBridge.Telemetry;

/// <summary>
/// Meter "Suite.LabelingBridge": deliveries by outcome, retries and Label Studio errors by code, annotations. The Label
/// Studio breaker state is the shared gauge <c>suite.circuit_breaker.state</c> (ServiceDefaults' CircuitBreakerStates).
/// </summary>
public sealed class BridgeMetrics
{
    public const string MeterName = "Suite.LabelingBridge";

    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _annotations;

    public BridgeMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _deliveries = meter.CreateCounter<long>("labeling_bridge.deliveries", description: "Export delivery attempts by outcome (delivered, retry_scheduled, deferred, failed) and error code.");
        _retries = meter.CreateCounter<long>("labeling_bridge.retries", description: "Retries of Label Studio operations by operation and error code.");
        _errors = meter.CreateCounter<long>("labeling_bridge.label_studio.errors", description: "Failed Label Studio calls by error code (timeout, network, server_error, throttled, ...).");
        _annotations = meter.CreateCounter<long>("labeling_bridge.annotations.received", description: "Annotations stored, by source (webhook, reconciliation).");
    }

    public void Delivery(string outcome, string? error) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("error", error ?? "none"));

    public void Retry(string operation, string error) =>
        _retries.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("error", error));

    public void LabelStudioError(string error) => _errors.Add(1, new KeyValuePair<string, object?>("error", error));

    public void AnnotationStored(string source) => _annotations.Add(1, new KeyValuePair<string, object?>("source", source));
}
