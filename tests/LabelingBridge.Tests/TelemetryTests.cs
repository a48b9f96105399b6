using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using LabelingBridge.LabelStudio;
using LabelingBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Suite.Testing;
using Suite.Testing.Otlp;

namespace LabelingBridge.Tests;

/// <summary>
/// The bridge's traces and logs as exported over OTLP to an in-test collector: an export's delivery continues the
/// trace of the request that asked for it, its log lines carry that trace id, and no credential ever appears in a log
/// line, a log record or a span. Not parallel with other tests: span listeners are process-wide.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    [Trait("Req", "OBS-2")]
    [Trait("Req", "OBS-1")]
    public async Task A_delivery_continues_the_trace_of_the_export_request_down_to_the_Label_Studio_calls()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var s = await Scenario.StartAsync(c => Export(c, collector));
        var id = s.AddDocument(pages: 1);
        // The client's trace: its HttpClient passes it on in the traceparent header.
        HttpResponseMessage response;
        ActivityTraceId traceId;
        using (var client = new Activity("test client") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            traceId = client.TraceId;
            response = await s.Client.PostAsync(new Uri($"/api/documents/{id}/exports/label-studio", UriKind.Relative), null);
        }

        using var disposeResponse = response;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var exportId = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("exportId").GetString()!;
        await s.WaitForExportAsync(exportId, "delivered", Wait);

        await collector.WaitForSpansAsync(
            spans => spans.Any(x => x.TraceId == traceId.ToString() && x.Name == "deliver export")
                     && spans.Count(x => x.TraceId == traceId.ToString() && x.Kind == OtlpSpanKind.Client) >= 2,
            Wait, "the delivery span and its Label Studio calls in the request's trace");
        var trace = collector.SpansOfTrace(traceId.ToString());
        var requestSpan = Assert.Single(trace, x => x.Kind == OtlpSpanKind.Server && x.ServiceName == "labeling-bridge" && x.Attribute("http.route") == "/api/documents/{id}/exports/label-studio");
        var delivery = Assert.Single(trace, x => x.Name == "deliver export");
        Assert.Equal(OtlpSpanKind.Consumer, delivery.Kind);
        Assert.Equal(requestSpan.SpanId, delivery.ParentSpanId);
        Assert.Contains(delivery.Links, l => l.SpanId == requestSpan.SpanId);
        Assert.Equal(exportId, delivery.Attribute("messaging.message.id"));
        Assert.Equal("delivered", delivery.Attribute("suite.export.outcome"));

        // Every Label Studio call of the delivery descends from the delivery span.
        var byId = trace.ToDictionary(x => x.SpanId);
        var calls = trace.Where(x => x.Kind == OtlpSpanKind.Client && x.Attribute("server.port") == s.Emulator.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, call => Assert.True(Descends(call, delivery.SpanId, byId), $"{call} descends from the delivery span"));

        // The delivery's log line carries the same trace id (OBS-1).
        var logs = await collector.WaitForLogsAsync(l => l.Any(r => r.Body?.Contains(exportId, StringComparison.Ordinal) == true && r.Body.Contains("delivered", StringComparison.Ordinal)), Wait);
        var delivered = logs.First(r => r.Body!.Contains(exportId, StringComparison.Ordinal) && r.Body.Contains("delivered", StringComparison.Ordinal));
        Assert.Equal(traceId.ToString(), delivered.TraceId);
        Assert.Equal("labeling-bridge", delivered.ServiceName);
        Assert.Empty(collector.Errors);
    }

    [Theory]
    [InlineData("legacy-token")]
    [InlineData("personal-access-token")]
    [Trait("Req", "OBS-1")]
    [Trait("Req", "SEC-2")]
    public async Task No_credential_appears_in_any_log_line_exported_log_record_or_span(string credential)
    {
        await using var collector = await OtlpCollector.StartAsync();
        string apiKey = "";
        await using var s = await Scenario.StartAsync(
            c =>
            {
                Export(c, collector);
                // Everything the bridge and its HTTP clients can say, at the most talkative level.
                foreach (var category in new[] { "Default", "System.Net.Http.HttpClient", "Microsoft.Extensions.Http", "Polly", "Microsoft.AspNetCore", "LabelingBridge" })
                {
                    c["Logging:LogLevel:" + category] = "Trace";
                    c["Logging:OpenTelemetry:LogLevel:" + category] = "Trace";
                }
            },
            apiKey: e => apiKey = credential == "legacy-token" ? e.LegacyToken : e.State.Tokens.IssuePersonalAccessToken());

        // An export delivered (credentials used, the webhook provisioned with its secret), an annotation by webhook
        // (the secret received), then the credentials revoked (refused, logged as such).
        var id = s.AddDocument(pages: 1);
        await s.WaitForExportAsync(await s.RequestExportAsync(id), "delivered", Wait);
        var secrets = new List<string> { apiKey, Scenario.WebhookSecret };
        if (credential == "personal-access-token")
        {
            var access = (await s.Bridge.Services.GetRequiredService<AccessTokenProvider>().GetAuthorizationAsync(false, CancellationToken.None)).Parameter!;
            secrets.AddRange([access, apiKey.Split('.')[2], access.Split('.')[2]]);
        }

        await s.Emulator.Actions.CreateAnnotationAsync(Assert.Single(s.TasksOf(id)).Id, new System.Text.Json.Nodes.JsonArray());
        await Eventually.UntilAsync(async () =>
        {
            var annotations = await s.Client.GetFromJsonAsync<System.Text.Json.JsonElement>(new Uri($"/api/documents/{id}/annotations", UriKind.Relative));
            return annotations.GetProperty("annotations").GetArrayLength() == 1;
        }, Wait, "the webhook's annotation is stored");
        s.Emulator.Faults.CredentialsRevoked = true;
        using (await s.Client.PostAsync(new Uri($"/api/documents/{s.AddDocument(1)}/exports/label-studio", UriKind.Relative), null))
        {
        }

        await Eventually.UntilAsync(() => s.Bridge.Services.GetRequiredService<CredentialState>().IsRejected, Wait, "credentials rejected");
        await collector.WaitForLogsAsync(l => l.Any(r => r.Body?.Contains("REJECTED", StringComparison.Ordinal) == true), Wait, "the rejection is exported");

        var lines = s.Bridge.Logs.Lines;
        var records = collector.LogRecords;
        var spans = collector.Spans;
        // Trace-level logging was on and exported; HttpClient's header logging is switched off altogether (its
        // structured state carries raw header values even where the text shows "*").
        Assert.Contains(records, r => r.SeverityText is "Trace" or "Debug");
        Assert.DoesNotContain(records, r => r.ScopeName.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Request Headers", StringComparison.Ordinal));
        Assert.NotEmpty(spans);
        foreach (var secret in secrets)
        {
            Assert.False(string.IsNullOrEmpty(secret));
            var inLines = lines.Where(l => l.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(inLines.Count == 0, "a credential in log lines:\n" + string.Join("\n", inLines));
            var inRecords = records.Where(r => r.AllText().Contains(secret, StringComparison.Ordinal)).Select(r => r.AllText()).ToList();
            Assert.True(inRecords.Count == 0, "a credential in exported log records:\n" + string.Join("\n---\n", inRecords));
            var leaking = spans.Where(x => x.Name.Contains(secret, StringComparison.Ordinal))
                .Select(x => x.ToString())
                .Concat(spans.SelectMany(x => x.Attributes.Where(a => OtlpValues.Format(a.Value).Contains(secret, StringComparison.Ordinal)).Select(a => $"{x}: {a.Key}")))
                .ToList();
            Assert.True(leaking.Count == 0, "a credential in spans: " + string.Join("; ", leaking));
        }
    }

    [Fact]
    [Trait("Req", "CB-4")]
    [Trait("Req", "RTY-4")]
    [Trait("Req", "OBS-3")]
    [Trait("Req", "OBS-4")]
    public async Task Breaker_state_and_every_retry_and_breaker_event_are_scrapeable_with_their_kind()
    {
        await using var s = await Scenario.StartAsync();
        s.Emulator.Faults.ServerErrors(10_000, 500);
        await s.RequestExportAsync(s.AddDocument(pages: 1));

        var dependency = "label-studio@" + new Uri(s.Bridge.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LabelingBridge.Configuration.LabelStudioOptions>>().Value.Url!.ToString()).Authority;
        string[] lines = [];
        await Eventually.UntilAsync(async () =>
        {
            lines = (await s.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
            return lines.Any(l => l.StartsWith("suite_circuit_breaker_state{", StringComparison.Ordinal) && l.Contains($"dependency=\"{dependency}\"", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
        }, Wait, "the scrape shows the Label Studio breaker open (2)");

        // Polly's own events, labelled with their kind and the pipeline.
        Assert.Contains(lines, l => l.StartsWith("resilience_polly_strategy_events_total{", StringComparison.Ordinal)
                                    && l.Contains("event_name=\"OnCircuitOpened\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("resilience_polly_strategy_events_total{", StringComparison.Ordinal)
                                    && l.Contains("event_name=\"OnRetry\"", StringComparison.Ordinal)
                                    && l.Contains("pipeline_name=\"label-studio-operation\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("suite_circuit_breaker_transitions_total{", StringComparison.Ordinal)
                                    && l.Contains("state=\"open\"", StringComparison.Ordinal));
    }

    private static void Export(Dictionary<string, string?> settings, OtlpCollector collector)
    {
        foreach (var (key, value) in collector.EnvironmentFor("labeling-bridge"))
        {
            settings[key] = value;
        }
    }

    private static bool Descends(CollectedSpan span, string ancestor, IReadOnlyDictionary<string, CollectedSpan> byId)
    {
        for (var current = span; current.ParentSpanId is { } parent; current = byId.GetValueOrDefault(parent)!)
        {
            if (parent == ancestor)
            {
                return true;
            }

            if (!byId.ContainsKey(parent))
            {
                return false;
            }
        }

        return false;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}
