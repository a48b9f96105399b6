using System.Net;
using System.Text.Json;
using Suite.Contracts;

namespace Suite.IntegrationTests;

/// <summary>What the running suite exports: one trace per document across every process, and no secret anywhere.</summary>
[Collection("suite")]
public sealed class TelemetrySuiteTests(SuiteFixture suite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    [Trait("Req", "OBS-2")]
    [Trait("Req", "OBS-4")]
    public async Task One_trace_follows_a_document_from_the_gateway_through_ingest_the_redis_stream_and_every_worker_stage()
    {
        var id = await suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        var document = await suite.WaitForTerminalAsync(id, Patience);
        Assert.Equal(DocumentStatus.Completed, RunningSuite.Status(document));

        // The worker's consumer span names the document; its trace is the one to follow.
        var spans = await suite.Telemetry.WaitForSpansAsync(
            all => Consumer(all, id) is { } consumer && HasWholePipeline(all.Where(s => s.TraceId == consumer.TraceId).ToList()),
            TimeSpan.FromMinutes(1), $"the spans of document {id}");
        var trace = spans.Where(s => s.TraceId == Consumer(spans, id)!.TraceId).ToList();
        var described = string.Join('\n', trace);

        // The gateway's request is the top of the trace (its parent, if any, is the test's own HTTP call).
        var gateway = Assert.Single(trace, s => s.ServiceName == "gateway" && s.Kind == OtlpSpanKind.Server && !trace.Any(p => p.SpanId == s.ParentSpanId));
        var enqueue = Assert.Single(trace, s => s.ServiceName == "ingest" && s.Kind == OtlpSpanKind.Producer && s.Name == "send " + JobStreams.Jobs);
        Assert.Equal("redis", enqueue.Attribute("messaging.system"));
        Assert.Equal(id, enqueue.Attribute("suite.document.id"));
        var upload = Assert.Single(trace, s => s.SpanId == enqueue.ParentSpanId);
        Assert.True(upload is { ServiceName: "ingest", Kind: OtlpSpanKind.Server } && upload.Attribute("http.request.method") == "POST",
            $"the enqueue happens inside ingest's handling of the upload: {upload}");
        Assert.True(IsBelow(trace, upload, gateway), $"the upload in ingest is below the gateway's request\n{described}");
        var consumer = Consumer(trace, id)!;
        Assert.Equal(enqueue.SpanId, consumer.ParentSpanId);
        foreach (var stage in PipelineStageNames.All)
        {
            var span = Assert.Single(trace, s => s.ServiceName == "pipeline-worker" && s.Name == "stage " + stage);
            Assert.True(IsBelow(trace, span, consumer), $"stage {stage} is below the consumer span\n{described}");
        }

        // The result submission: the worker's call and ingest's handling of it, in the same trace.
        Assert.Contains(trace, s => s.ServiceName == "ingest" && s.Kind == OtlpSpanKind.Server && (s.Attribute("http.route") ?? "").Contains("result", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Req", "OBS-1")]
    [Trait("Req", "SEC-2")]
    [Trait("Req", "OBS-2")]
    public async Task An_export_with_credentials_continues_its_request_trace_and_no_log_line_span_or_record_holds_a_secret()
    {
        var bridge = suite.App.GetReplica("labeling-bridge", 0);
        var environment = ProcessTree.EnvironmentOf(bridge.ProcessId ?? throw new InvalidOperationException($"{bridge} has no process"));
        string[] secrets = [environment["LabelStudio__ApiKey"], environment["Bridge__WebhookSecret"]];
        Assert.All(secrets, s => Assert.True(s.Length >= 20, "the suite runs with real credentials"));

        var id = await suite.UploadAcceptedAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf"));
        Assert.Equal(DocumentStatus.Completed, RunningSuite.Status(await suite.WaitForTerminalAsync(id, Patience)));
        using var accepted = await suite.Gateway.PostAsync(new Uri($"/api/documents/{id}/exports/label-studio", UriKind.Relative), null);
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        await Eventually.UntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await suite.Gateway.GetStringAsync(accepted.Headers.Location));
            return json.RootElement.GetProperty("state").GetString() == "delivered";
        }, TimeSpan.FromMinutes(1), $"export of {id} delivered");

        // The delivery continues the trace of the export request made at the gateway, down to the Label Studio calls.
        var spans = await suite.Telemetry.WaitForSpansAsync(
            all => all.Any(s => s.Name == "deliver export" && s.Attribute("suite.document.id") == id), TimeSpan.FromSeconds(30), "the delivery span");
        var delivery = spans.Single(s => s.Name == "deliver export" && s.Attribute("suite.document.id") == id);
        var trace = spans.Where(s => s.TraceId == delivery.TraceId).ToList();
        var described = string.Join('\n', trace);
        var request = Assert.Single(trace, s => s.ServiceName == "gateway" && s.Kind == OtlpSpanKind.Server);
        Assert.True(IsBelow(trace, delivery, request), $"the delivery is below the export request made at the gateway\n{described}");
        Assert.Contains(trace, s => s.ServiceName == "labeling-bridge" && s.Kind == OtlpSpanKind.Client && IsBelow(trace, s, delivery)
            && (s.Attribute("url.full") ?? s.Attribute("server.address") ?? "").Length > 0);

        // Nothing the suite wrote holds a credential: console lines of every process, OTLP log records, span attributes.
        await suite.Telemetry.WaitForLogsAsync(all => all.Any(l => l.ServiceName == "labeling-bridge"), TimeSpan.FromSeconds(30), "bridge log records");
        foreach (var secret in secrets)
        {
            foreach (var (replica, lines) in suite.App.AllLogs())
            {
                Assert.False(lines.Contains(secret, StringComparison.Ordinal), $"{replica}'s console output holds a secret");
            }

            Assert.DoesNotContain(suite.Telemetry.LogRecords, l => l.AllText().Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(suite.Telemetry.Spans, s => s.Attributes.Values.Any(v => OtlpValues.Format(v).Contains(secret, StringComparison.Ordinal)));
        }
    }

    private static CollectedSpan? Consumer(IEnumerable<CollectedSpan> spans, string id) =>
        spans.FirstOrDefault(s => s.ServiceName == "pipeline-worker" && s.Kind == OtlpSpanKind.Consumer && s.Attribute("suite.document.id") == id);

    private static bool HasWholePipeline(IReadOnlyList<CollectedSpan> trace) =>
        PipelineStageNames.All.All(stage => trace.Any(s => s.Name == "stage " + stage))
        && trace.Any(s => s.ServiceName == "gateway")
        && trace.Any(s => s.ServiceName == "ingest" && (s.Attribute("http.route") ?? "").Contains("result", StringComparison.Ordinal));

    /// <summary>Whether <paramref name="span"/> descends from <paramref name="ancestor"/> through parent ids.</summary>
    private static bool IsBelow(IReadOnlyList<CollectedSpan> trace, CollectedSpan span, CollectedSpan ancestor)
    {
        var byId = trace.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        for (var current = span; current.ParentSpanId is { } parent && byId.TryGetValue(parent, out var next); current = next)
        {
            if (next.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }
}
