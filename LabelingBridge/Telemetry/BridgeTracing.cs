using System.Diagnostics;
using LabelingBridge.Outbox;

namespace LabelingBridge.Telemetry;

/// <summary>
/// The bridge's spans (ActivitySource <c>Suite.LabelingBridge</c>). An export's delivery runs later, in the background,
/// yet belongs to the request that asked for it: its span is a child of the trace context stored in the outbox row
/// when the export was requested (and links to it), so one trace goes from the client through the export request to
/// the Label Studio calls (Req OBS-2). An export without a stored context (automatic exports) starts its own trace.
/// </summary>
public static class BridgeTracing
{
    public const string SourceName = "Suite.LabelingBridge";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartDelivery(ExportRecord export)
    {
        ArgumentNullException.ThrowIfNull(export);
        var hasParent = ActivityContext.TryParse(export.TraceParent, null, isRemote: true, out var requested);
        var activity = Source.StartActivity(
            ActivityKind.Consumer,
            hasParent ? requested : default,
            links: hasParent ? [new ActivityLink(requested)] : null,
            name: "deliver export");
        activity?.SetTag("messaging.system", "sqlite-outbox");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", "exports");
        activity?.SetTag("messaging.message.id", export.Id);
        activity?.SetTag("suite.document.id", export.DocumentId);
        activity?.SetTag("suite.export.trigger", export.Trigger);
        activity?.SetTag("suite.export.attempt", export.Attempts + 1);
        return activity;
    }
}
