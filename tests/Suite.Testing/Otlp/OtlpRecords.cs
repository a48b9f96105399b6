namespace Suite.Testing.Otlp;

/// <summary>OTLP span kinds (the proto enum's values).</summary>
public enum OtlpSpanKind
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary>
/// A span as received: ids as lowercase hex (what <c>Activity.TraceId.ToString()</c> prints), <see cref="ParentSpanId"/>
/// null for a root span, <see cref="ServiceName"/> from the resource's <c>service.name</c>, attribute values as
/// string, bool, long, double, byte[] or a list/dictionary of those.
/// </summary>
public sealed record CollectedSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    OtlpSpanKind Kind,
    string? ServiceName,
    string ScopeName,
    IReadOnlyDictionary<string, object?> Attributes,
    DateTimeOffset Start,
    DateTimeOffset End,
    int StatusCode,
    string? StatusMessage,
    IReadOnlyList<CollectedLink> Links)
{
    /// <summary>An attribute's value as text (null when absent).</summary>
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    public override string ToString() => $"{ServiceName}/{Name} ({Kind}) {TraceId}/{SpanId} <- {ParentSpanId ?? "root"}";
}

/// <summary>A link of a span to another span.</summary>
public sealed record CollectedLink(string TraceId, string SpanId);

/// <summary>
/// A log record as received: its body (the formatted message or the template), attributes (the structured fields,
/// scopes, and exception details), severity, trace context and the resource's <c>service.name</c>.
/// </summary>
public sealed record CollectedLogRecord(
    DateTimeOffset Time,
    int SeverityNumber,
    string? SeverityText,
    string? Body,
    IReadOnlyDictionary<string, object?> Attributes,
    string? TraceId,
    string? SpanId,
    string? ServiceName,
    string ScopeName)
{
    /// <summary>Everything a person could read in the record, for "does this secret appear anywhere" checks.</summary>
    public string AllText() =>
        string.Join("\n", new[] { Body, SeverityText, ScopeName }.Concat(Attributes.Select(a => $"{a.Key}={OtlpValues.Format(a.Value)}")));
}

/// <summary>One metric stream as received (a gauge, a sum or a histogram) with its data points.</summary>
public sealed record CollectedMetric(string? ServiceName, string ScopeName, string Name, string? Unit, string Type, IReadOnlyList<CollectedPoint> Points);

/// <summary>A data point: <see cref="Value"/> for gauges and sums, <see cref="Count"/> and <see cref="Sum"/> for histograms.</summary>
public sealed record CollectedPoint(IReadOnlyDictionary<string, object?> Attributes, double? Value, long? Count, double? Sum);

/// <summary>Formatting of attribute values.</summary>
public static class OtlpValues
{
    public static string Format(object? value) => value switch
    {
        null => "",
        byte[] bytes => Convert.ToHexString(bytes),
        IEnumerable<object?> list => "[" + string.Join(",", list.Select(Format)) + "]",
        IReadOnlyDictionary<string, object?> map => "{" + string.Join(",", map.Select(kv => kv.Key + "=" + Format(kv.Value))) + "}",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
