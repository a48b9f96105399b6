using System.Diagnostics;
using System.Globalization;
using IngestService.Api;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Suite.Contracts;

namespace IngestService.Queue;

/// <summary>
/// Producer side of the jobs streams: a job goes to the stream of its document's priority (Req LS-2). XADD is never
/// trimmed (MAXLEN would delete pending jobs). The consumer group is created from "0" with MKSTREAM on every jobs
/// stream, so a job added before any worker started is still delivered. Failures are reported as a null entry id,
/// never thrown: the catalog row is the source of truth and the sweeper retries.
/// </summary>
internal sealed partial class JobQueue : IDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly QueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<JobQueue> _logger;
    private volatile bool _groupEnsured;

    public JobQueue(IConnectionMultiplexer redis, IOptions<QueueOptions> options, TimeProvider time, ILogger<JobQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _options = options.Value;
        _time = time;
        _logger = logger;
        // A Redis that restarted without persistence has lost the group: create it again before the next XADD.
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    public bool IsConnected => _redis.IsConnected;

    /// <summary>The consumer group is known to exist on every jobs stream of the Redis this connection talks to (reset when it reconnects).</summary>
    public bool GroupEnsured => _groupEnsured;

    private TimeSpan Timeout => TimeSpan.FromMilliseconds(_options.EnqueueTimeoutMs);

    /// <summary>
    /// Creates the consumer group (and the stream) on every jobs stream unless it exists, within
    /// <c>Queue:EnqueueTimeoutMs</c> for all of them together. False when Redis did not answer in time.
    /// </summary>
    public Task<bool> EnsureGroupAsync(CancellationToken cancellationToken) => EnsureGroupAsync(Stopwatch.StartNew(), cancellationToken);

    /// <summary>What is left of the enqueue timeout since <paramref name="started"/>; a timeout when nothing is.</summary>
    private TimeSpan Remaining(Stopwatch started) =>
        Timeout - started.Elapsed is var left && left > TimeSpan.Zero
            ? left
            : throw new TimeoutException($"Redis did not answer within Queue:EnqueueTimeoutMs ({_options.EnqueueTimeoutMs} ms).");

    private async Task<bool> EnsureGroupAsync(Stopwatch started, CancellationToken cancellationToken)
    {
        foreach (var stream in JobStreams.AllJobs)
        {
            try
            {
                await _redis.GetDatabase()
                    .StreamCreateConsumerGroupAsync(stream, JobStreams.ConsumerGroup, (RedisValue)"0", createStream: true)
                    .WaitAsync(Remaining(started), cancellationToken);
                LogGroupCreated(stream, JobStreams.ConsumerGroup);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // Already there: nothing to do.
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogGroupFailed(ex.Message);
                return false;
            }
        }

        _groupEnsured = true;
        return true;
    }

    /// <summary>
    /// Adds the job for <paramref name="documentId"/> to the stream of <paramref name="priority"/> (its
    /// <c>priority</c> field says it too, so a retry returns to the same stream) and nudges idle workers. Returns the
    /// entry id, or null on failure.
    /// The XADD is a Producer span (messaging semantic conventions) whose W3C context travels in the job's
    /// <c>traceparent</c> field, so the worker's processing continues the same trace (Req OBS-2). Its parent is the
    /// current activity (the upload request), else <paramref name="traceParent"/> (the sweeper passes the upload's
    /// context from the catalog), else it starts a new trace.
    /// </summary>
    public async Task<string?> TryEnqueueAsync(
        string documentId, string priority, string origin, CancellationToken cancellationToken, string? traceParent = null)
    {
        if (!_redis.IsConnected)
        {
            LogEnqueueFailed(documentId, "Redis is not connected");
            Count("failed", origin);
            return null;
        }

        var stream = JobStreams.StreamOf(priority);
        var parent = Activity.Current is null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var stored) ? stored : default;
        using var activity = IngestTelemetry.Source.StartActivity("send " + stream, ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", stream);
        activity?.SetTag("suite.document.id", documentId);
        activity?.SetTag("suite.job.origin", origin);
        activity?.SetTag("suite.job.priority", JobStreams.PriorityOf(stream));
        // One deadline for the whole enqueue (group check and XADD): an upload waits Queue:EnqueueTimeoutMs at most.
        var started = Stopwatch.StartNew();
        try
        {
            if (!_groupEnsured && !await EnsureGroupAsync(started, cancellationToken))
            {
                Count("failed", origin);
                return null;
            }

            var fields = new List<NameValueEntry>
            {
                new(JobStreams.DocumentIdField, documentId),
                new(JobStreams.EnqueuedAtField, _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
                new(JobStreams.PriorityField, JobStreams.PriorityOf(stream)),
            };
            if ((Activity.Current?.Id ?? traceParent) is { } context)
            {
                fields.Add(new NameValueEntry(JobStreams.TraceParentField, context));
            }

            var database = _redis.GetDatabase();
            var entryId = await database.StreamAddAsync(stream, [.. fields]).WaitAsync(Remaining(started), cancellationToken);
            // The nudge is at-most-once by nature; the workers' poll is the safety net, so nothing waits for it.
            _ = database.PublishAsync(RedisChannel.Literal(JobStreams.WakeChannel), documentId, CommandFlags.FireAndForget);
            Count("ok", origin);
            activity?.SetTag("messaging.message.id", entryId.ToString());
            return entryId.ToString();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogEnqueueFailed(documentId, ex.Message);
            Count("failed", origin);
            return null;
        }
    }

    /// <summary>
    /// Of <paramref name="documentIds"/>, those for which Redis holds no job at all: no entry in either jobs stream
    /// (waiting or pending; acknowledged entries are deleted with their XACK) and no member in the retry set. Checked
    /// in one script, so a job moving between them cannot be missed. Null when Redis did not answer.
    /// </summary>
    public async Task<IReadOnlyList<string>?> FindMissingAsync(IReadOnlyList<string> documentIds, CancellationToken cancellationToken)
    {
        if (documentIds.Count == 0)
        {
            return [];
        }

        try
        {
            var result = await _redis.GetDatabase()
                .ScriptEvaluateAsync(FindMissingScript, [JobStreams.Delayed, .. JobStreams.AllJobs.Select(s => (RedisKey)s)],
                    [JobStreams.DocumentIdField, .. documentIds.Select(id => (RedisValue)id)])
                .WaitAsync(Timeout, cancellationToken);
            return ((RedisResult[]?)result ?? []).Select(r => r.ToString()).ToList();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogPresenceCheckFailed(ex.Message);
            return null;
        }
    }

    // KEYS[1]: retry set; KEYS[2..]: the jobs streams. ARGV[1]: the document id field; ARGV[2..]: the ids to check.
    private const string FindMissingScript = """
        local present = {}
        for k = 2, #KEYS do
          for _, entry in ipairs(redis.call('XRANGE', KEYS[k], '-', '+')) do
            local fields = entry[2]
            for i = 1, #fields, 2 do
              if fields[i] == ARGV[1] then present[fields[i + 1]] = true end
            end
          end
        end
        for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local ok, job = pcall(cjson.decode, member)
          if ok and type(job) == 'table' and job[ARGV[1]] then present[job[ARGV[1]]] = true end
        end
        local missing = {}
        for i = 2, #ARGV do
          if not present[ARGV[i]] then missing[#missing + 1] = ARGV[i] end
        end
        return missing
        """;

    public void Dispose() => _redis.ConnectionRestored -= OnConnectionRestored;

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _groupEnsured = false;

    private static void Count(string outcome, string origin) =>
        IngestTelemetry.Enqueues.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("origin", origin));

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer group {Group} ensured on stream {Stream}")]
    private partial void LogGroupCreated(string stream, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure the consumer group: {Error}")]
    private partial void LogGroupFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check Redis for lost jobs; the next sweep retries: {Error}")]
    private partial void LogPresenceCheckFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enqueue of document {DocumentId} failed; the sweeper will retry: {Error}")]
    private partial void LogEnqueueFailed(string documentId, string error);
}
