using System.Text;
using Google.Protobuf;

namespace Suite.Testing.Otlp;

/// <summary>
/// Reads the OTLP/HTTP protobuf export requests (ExportTraceServiceRequest, ExportLogsServiceRequest,
/// ExportMetricsServiceRequest) with Google.Protobuf's CodedInputStream, taking only the fields the collector keeps
/// and skipping every other. Field numbers are those of the OTLP specification (opentelemetry/proto v1).
/// </summary>
internal static class OtlpDecoder
{
    public static IEnumerable<CollectedSpan> Traces(byte[] body)
    {
        // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1))
        {
            // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
            var parts = Fields(resourceSpans.Bytes!).ToList();
            var service = ServiceName(parts);
            foreach (var scopeSpans in parts.Where(f => f.Number == 2))
            {
                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
                var scopeParts = Fields(scopeSpans.Bytes!).ToList();
                var scope = ScopeName(scopeParts);
                foreach (var span in scopeParts.Where(f => f.Number == 2))
                {
                    yield return Span(span.Bytes!, service, scope);
                }
            }
        }
    }

    public static IEnumerable<CollectedLogRecord> Logs(byte[] body)
    {
        // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
        foreach (var resourceLogs in Fields(body).Where(f => f.Number == 1))
        {
            // ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
            var parts = Fields(resourceLogs.Bytes!).ToList();
            var service = ServiceName(parts);
            foreach (var scopeLogs in parts.Where(f => f.Number == 2))
            {
                // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
                var scopeParts = Fields(scopeLogs.Bytes!).ToList();
                var scope = ScopeName(scopeParts);
                foreach (var record in scopeParts.Where(f => f.Number == 2))
                {
                    yield return LogRecord(record.Bytes!, service, scope);
                }
            }
        }
    }

    public static IEnumerable<CollectedMetric> Metrics(byte[] body)
    {
        // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
        foreach (var resourceMetrics in Fields(body).Where(f => f.Number == 1))
        {
            // ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
            var parts = Fields(resourceMetrics.Bytes!).ToList();
            var service = ServiceName(parts);
            foreach (var scopeMetrics in parts.Where(f => f.Number == 2))
            {
                // ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
                var scopeParts = Fields(scopeMetrics.Bytes!).ToList();
                var scope = ScopeName(scopeParts);
                foreach (var metric in scopeParts.Where(f => f.Number == 2))
                {
                    yield return Metric(metric.Bytes!, service, scope);
                }
            }
        }
    }

    // Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
    //        SpanKind kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
    //        repeated KeyValue attributes = 9; repeated Link links = 13; Status status = 15; }
    private static CollectedSpan Span(byte[] data, string? service, string scope)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null, statusMessage = null;
        var kind = OtlpSpanKind.Unspecified;
        ulong start = 0, end = 0;
        var statusCode = 0;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        var links = new List<CollectedLink>();
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 1: traceId = Hex(f.Bytes); break;
                case 2: spanId = Hex(f.Bytes); break;
                case 4: parent = f.Bytes is { Length: > 0 } ? Hex(f.Bytes) : null; break;
                case 5: name = Text(f.Bytes); break;
                case 6: kind = (OtlpSpanKind)(int)f.Value; break;
                case 7: start = f.Value; break;
                case 8: end = f.Value; break;
                case 9: AddKeyValue(attributes, f.Bytes!); break;
                case 13:
                    // Link { bytes trace_id = 1; bytes span_id = 2; }
                    var link = Fields(f.Bytes!).ToList();
                    links.Add(new CollectedLink(Hex(link.FirstOrDefault(l => l.Number == 1).Bytes), Hex(link.FirstOrDefault(l => l.Number == 2).Bytes)));
                    break;
                case 15:
                    // Status { string message = 2; StatusCode code = 3; }
                    foreach (var s in Fields(f.Bytes!))
                    {
                        if (s.Number == 2)
                        {
                            statusMessage = Text(s.Bytes);
                        }
                        else if (s.Number == 3)
                        {
                            statusCode = (int)s.Value;
                        }
                    }

                    break;
            }
        }

        return new CollectedSpan(traceId, spanId, parent, name, kind, service, scope, attributes, Time(start), Time(end), statusCode, statusMessage, links);
    }

    // LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3;
    //             AnyValue body = 5; repeated KeyValue attributes = 6; bytes trace_id = 9; bytes span_id = 10;
    //             fixed64 observed_time_unix_nano = 11; }
    private static CollectedLogRecord LogRecord(byte[] data, string? service, string scope)
    {
        ulong time = 0, observed = 0;
        var severity = 0;
        string? severityText = null, body = null, traceId = null, spanId = null;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 1: time = f.Value; break;
                case 2: severity = (int)f.Value; break;
                case 3: severityText = Text(f.Bytes); break;
                case 5: body = OtlpValues.Format(AnyValue(f.Bytes!)); break;
                case 6: AddKeyValue(attributes, f.Bytes!); break;
                case 9: traceId = f.Bytes is { Length: > 0 } ? Hex(f.Bytes) : null; break;
                case 10: spanId = f.Bytes is { Length: > 0 } ? Hex(f.Bytes) : null; break;
                case 11: observed = f.Value; break;
            }
        }

        return new CollectedLogRecord(Time(time != 0 ? time : observed), severity, severityText, body, attributes, traceId, spanId, service, scope);
    }

    // Metric { string name = 1; string description = 2; string unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
    // Gauge/Sum { repeated NumberDataPoint data_points = 1; }  Histogram { repeated HistogramDataPoint data_points = 1; }
    private static CollectedMetric Metric(byte[] data, string? service, string scope)
    {
        string name = "", type = "other";
        string? unit = null;
        var points = new List<CollectedPoint>();
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 1: name = Text(f.Bytes); break;
                case 3: unit = Text(f.Bytes); break;
                case 5 or 7:
                    type = f.Number == 5 ? "gauge" : "sum";
                    points.AddRange(Fields(f.Bytes!).Where(p => p.Number == 1).Select(p => NumberPoint(p.Bytes!)));
                    break;
                case 9:
                    type = "histogram";
                    points.AddRange(Fields(f.Bytes!).Where(p => p.Number == 1).Select(p => HistogramPoint(p.Bytes!)));
                    break;
            }
        }

        return new CollectedMetric(service, scope, name, unit, type, points);
    }

    // NumberDataPoint { double as_double = 4; sfixed64 as_int = 6; repeated KeyValue attributes = 7; }
    private static CollectedPoint NumberPoint(byte[] data)
    {
        double? value = null;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 4: value = BitConverter.Int64BitsToDouble((long)f.Value); break;
                case 6: value = (long)f.Value; break;
                case 7: AddKeyValue(attributes, f.Bytes!); break;
            }
        }

        return new CollectedPoint(attributes, value, null, null);
    }

    // HistogramDataPoint { fixed64 count = 4; optional double sum = 5; repeated KeyValue attributes = 9; }
    private static CollectedPoint HistogramPoint(byte[] data)
    {
        long? count = null;
        double? sum = null;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 4: count = (long)f.Value; break;
                case 5: sum = BitConverter.Int64BitsToDouble((long)f.Value); break;
                case 9: AddKeyValue(attributes, f.Bytes!); break;
            }
        }

        return new CollectedPoint(attributes, null, count, sum);
    }

    // Resource { repeated KeyValue attributes = 1; } — the first field of ResourceSpans/Logs/Metrics.
    private static string? ServiceName(List<Field> parts)
    {
        var resource = parts.FirstOrDefault(f => f.Number == 1).Bytes;
        if (resource is null)
        {
            return null;
        }

        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var f in Fields(resource).Where(f => f.Number == 1))
        {
            AddKeyValue(attributes, f.Bytes!);
        }

        return attributes.GetValueOrDefault("service.name") as string;
    }

    // InstrumentationScope { string name = 1; } — the first field of ScopeSpans/Logs/Metrics.
    private static string ScopeName(List<Field> parts) =>
        parts.FirstOrDefault(f => f.Number == 1).Bytes is { } scope ? Text(Fields(scope).FirstOrDefault(f => f.Number == 1).Bytes) : "";

    // KeyValue { string key = 1; AnyValue value = 2; }
    private static void AddKeyValue(Dictionary<string, object?> into, byte[] data)
    {
        string? key = null;
        object? value = null;
        foreach (var f in Fields(data))
        {
            if (f.Number == 1)
            {
                key = Text(f.Bytes);
            }
            else if (f.Number == 2)
            {
                value = AnyValue(f.Bytes!);
            }
        }

        if (key is not null)
        {
            into[key] = value;
        }
    }

    // AnyValue { oneof: string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    //            ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
    // ArrayValue { repeated AnyValue values = 1; }  KeyValueList { repeated KeyValue values = 1; }
    private static object? AnyValue(byte[] data)
    {
        foreach (var f in Fields(data))
        {
            switch (f.Number)
            {
                case 1: return Text(f.Bytes);
                case 2: return f.Value != 0;
                case 3: return (long)f.Value;
                case 4: return BitConverter.Int64BitsToDouble((long)f.Value);
                case 5: return Fields(f.Bytes!).Where(v => v.Number == 1).Select(v => AnyValue(v.Bytes!)).ToList();
                case 6:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var kv in Fields(f.Bytes!).Where(v => v.Number == 1))
                    {
                        AddKeyValue(map, kv.Bytes!);
                    }

                    return map;
                case 7: return f.Bytes;
            }
        }

        return null;
    }

    /// <summary>Every field of a message: its number, and its bytes (length-delimited) or its raw 64-bit value.</summary>
    private static IEnumerable<Field> Fields(byte[] data)
    {
        var fields = new List<Field>();
        using var input = new CodedInputStream(data);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited:
                    fields.Add(new Field(number, 0, input.ReadBytes().ToByteArray()));
                    break;
                case WireFormat.WireType.Varint:
                    fields.Add(new Field(number, input.ReadUInt64(), null));
                    break;
                case WireFormat.WireType.Fixed64:
                    fields.Add(new Field(number, input.ReadFixed64(), null));
                    break;
                case WireFormat.WireType.Fixed32:
                    fields.Add(new Field(number, input.ReadFixed32(), null));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return fields;
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

    private static DateTimeOffset Time(ulong unixNanos) =>
        DateTimeOffset.FromUnixTimeMilliseconds(0).AddTicks((long)(unixNanos / 100));

    private readonly record struct Field(int Number, ulong Value, byte[]? Bytes);
}
