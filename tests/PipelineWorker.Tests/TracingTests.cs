using System.Diagnostics;
using StackExchange.Redis;
using Suite.Contracts;
using Suite.Testing;
using Suite.Testing.Otlp;

namespace PipelineWorker.Tests;

/// <summary>
/// The worker as a real process exporting over OTLP/HTTP to an in-test collector: processing a job continues the
/// trace its <c>traceparent</c> field names, with one span per stage and the result submission below it.
/// </summary>
public sealed class TracingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    [Trait("Req", "OBS-2")]
    [Trait("Req", "OBS-4")]
    public async Task A_job_is_processed_in_the_trace_of_its_traceparent_with_a_span_per_stage_and_the_result_submission()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        await using var ingest = await FakeIngest.StartAsync();
        ingest.Add("doc-traced", "minimal.pdf", await File.ReadAllBytesAsync(RepoPaths.CorpusFile("sf__minimal-document.pdf")));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        await db.StreamCreateConsumerGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        // The producer's span (as IngestService's enqueue would have made it).
        var traceId = ActivityTraceId.CreateRandom();
        var producer = ActivitySpanId.CreateRandom();
        var entryId = await db.StreamAddAsync(JobStreams.Jobs,
        [
            new NameValueEntry(JobStreams.DocumentIdField, "doc-traced"),
            new NameValueEntry(JobStreams.TraceParentField, $"00-{traceId}-{producer}-01"),
        ]);

        await using var worker = await WorkerProcess.StartAsync(redis.ConnectionString, ingest.BaseAddress, "pipeline-worker-traced",
            new Dictionary<string, string>(collector.EnvironmentFor("pipeline-worker")));
        await Eventually.UntilAsync(() => ingest.Read("doc-traced", d => d.Result is not null), Patience, "the result is submitted\n" + worker.Output);

        var id = traceId.ToString();
        await collector.WaitForSpansAsync(
            s => s.Any(x => x.TraceId == id && x.Kind == OtlpSpanKind.Consumer)
                 && PipelineStageNames.All.All(stage => s.Any(x => x.TraceId == id && x.Name == "stage " + stage))
                 && s.Any(x => x.TraceId == id && x.Kind == OtlpSpanKind.Client && x.Attribute("url.full")?.EndsWith("/result", StringComparison.Ordinal) == true),
            Patience, "the consumer span, a span per stage and the result submission");
        var trace = collector.SpansOfTrace(id);
        var consumer = Assert.Single(trace, x => x.Kind == OtlpSpanKind.Consumer);
        Assert.Equal(producer.ToString(), consumer.ParentSpanId);
        Assert.Equal("pipeline-worker", consumer.ServiceName);
        Assert.Equal("process " + JobStreams.Jobs, consumer.Name);
        Assert.Equal("redis", consumer.Attribute("messaging.system"));
        Assert.Equal(JobStreams.Jobs, consumer.Attribute("messaging.destination.name"));
        Assert.Equal(entryId.ToString(), consumer.Attribute("messaging.message.id"));
        foreach (var stage in PipelineStageNames.All)
        {
            var span = Assert.Single(trace, x => x.Name == "stage " + stage);
            Assert.Equal(consumer.SpanId, span.ParentSpanId);
            Assert.Contains(span.Attribute("suite.stage.outcome"), new[] { StageStatus.Completed, StageStatus.Degraded, StageStatus.Skipped });
        }

        var submit = Assert.Single(trace, x => x.Kind == OtlpSpanKind.Client && x.Attribute("url.full")?.EndsWith("/result", StringComparison.Ordinal) == true);
        var byId = trace.ToDictionary(x => x.SpanId);
        var ancestor = submit;
        while (ancestor.ParentSpanId is { } parent && parent != consumer.SpanId && byId.TryGetValue(parent, out var next))
        {
            ancestor = next;
        }

        Assert.Equal(consumer.SpanId, ancestor.ParentSpanId);
        Assert.Empty(collector.Errors);
    }
}
