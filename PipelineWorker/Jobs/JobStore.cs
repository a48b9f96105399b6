using StackExchange.Redis;
using Suite.Contracts;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// The worker's Redis operations on the work queue. Every step that changes two things (acknowledge and delete,
/// move to the retry set, move to the dead-letter stream, bring due retries back) is one Lua script, so a crash or a
/// lost connection can never leave a job in both places or in none. Scripts read the time from Redis (TIME), so
/// workers with skewed clocks agree on when a retry is due.
/// </summary>
internal sealed class JobStore(IConnectionMultiplexer redis)
{
    private static readonly RedisKey[] JobsKey = [JobStreams.Jobs];

    private IDatabase Db => redis.GetDatabase();

    public async Task EnsureGroupAsync()
    {
        try
        {
            await Db.StreamCreateConsumerGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists already: the normal case.
        }
    }

    public Task<StreamEntry[]> ReadNewAsync(string consumer) =>
        Db.StreamReadGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, consumer, StreamPosition.NewMessages, count: 1);

    /// <summary>This consumer's own pending entries after <paramref name="after"/> (re-reading them counts as a delivery).</summary>
    public Task<StreamEntry[]> ReadOwnPendingAsync(string consumer, RedisValue after, int count) =>
        Db.StreamReadGroupAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, consumer, after, count);

    public Task<StreamAutoClaimResult> AutoClaimAsync(string consumer, TimeSpan minIdle, RedisValue cursor) =>
        Db.StreamAutoClaimAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, consumer, (long)minIdle.TotalMilliseconds, cursor, count: 1);

    /// <summary>How often the entry has been delivered (XPENDING), 1 when Redis no longer lists it as pending.</summary>
    public async Task<long> DeliveryCountAsync(string entryId)
    {
        var pending = await Db.StreamPendingMessagesAsync(JobStreams.Jobs, JobStreams.ConsumerGroup, 1, RedisValue.Null, entryId, entryId);
        return pending.Length > 0 ? Math.Max(1, pending[0].DeliveryCount) : 1;
    }

    /// <summary>The job is done (or can never be done): XACK and XDEL, so the stream keeps only live jobs.</summary>
    public Task AckAsync(string entryId) =>
        Db.ScriptEvaluateAsync(AckScript, JobsKey, [JobStreams.ConsumerGroup, entryId]);

    /// <summary>
    /// Moves the job into the retry set, due after <paramref name="delay"/>, and acknowledges its entry, atomically.
    /// Refused (false) when another consumer owns the entry now: it is that consumer's job.
    /// </summary>
    public async Task<bool> RetryLaterAsync(string consumer, JobMessage next, TimeSpan delay)
    {
        var due = (long)await Db.ScriptEvaluateAsync(RetryScript, [JobStreams.Jobs, JobStreams.Delayed],
            [JobStreams.ConsumerGroup, next.EntryId, consumer, (long)delay.TotalMilliseconds, next.ToJson()]);
        return due > 0;
    }

    /// <summary>Moves the job to the dead-letter stream with its reason and acknowledges its entry, atomically.</summary>
    public async Task<bool> DeadLetterAsync(string consumer, JobMessage job, long deliveries, string reason)
    {
        var fields = new List<RedisValue>();
        foreach (var (name, value) in job.Fields)
        {
            if (name is not (JobStreams.DeliveriesField or JobStreams.ReasonField or JobStreams.RetryOfField))
            {
                fields.Add(name);
                fields.Add(value);
            }
        }

        fields.AddRange([JobStreams.RetryOfField, job.EntryId, JobStreams.DeliveriesField, deliveries, JobStreams.ReasonField, reason]);
        var moved = (long)await Db.ScriptEvaluateAsync(DeadLetterScript, [JobStreams.Jobs, JobStreams.DeadLetters],
            [JobStreams.ConsumerGroup, job.EntryId, consumer, .. fields]);
        return moved > 0;
    }

    /// <summary>Brings retries that are due back into the stream (XADD + ZREM), at most <paramref name="max"/>; returns how many.</summary>
    public async Task<long> PromoteDueAsync(int max) =>
        (long)await Db.ScriptEvaluateAsync(PromoteScript, [JobStreams.Delayed, JobStreams.Jobs], [max, JobStreams.WakeChannel]);

    /// <summary>
    /// Resets the idle time of our own pending entry (XCLAIM … JUSTID, which does not count as a delivery), so nobody
    /// reclaims it while we work. False when the entry is no longer ours (reclaimed or acknowledged meanwhile).
    /// </summary>
    public async Task<bool> RenewAsync(string consumer, string entryId) =>
        (long)await Db.ScriptEvaluateAsync(RenewScript, JobsKey, [JobStreams.ConsumerGroup, entryId, consumer]) > 0;

    // ARGV: group, entry id.
    private const string AckScript = """
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        return redis.call('XDEL', KEYS[1], ARGV[2])
        """;

    // KEYS: jobs, retry set. ARGV: group, entry id, consumer, delay ms, member. Returns the due time, or -1 when the
    // entry is pending for another consumer. An entry pending for nobody (lost) is still scheduled: never drop a job.
    private const string RetryScript = """
        local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if #p > 0 and p[1][2] ~= ARGV[3] then return -1 end
        local t = redis.call('TIME')
        local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4])
        redis.call('ZADD', KEYS[2], due, ARGV[5])
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        return due
        """;

    // KEYS: jobs, dead letters. ARGV: group, entry id, consumer, field/value pairs of the dead letter.
    private const string DeadLetterScript = """
        local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if #p > 0 and p[1][2] ~= ARGV[3] then return 0 end
        redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        return 1
        """;

    // KEYS: retry set, jobs. ARGV: max, wake channel.
    private const string PromoteScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        for _, member in ipairs(due) do
          local ok, job = pcall(cjson.decode, member)
          if ok and type(job) == 'table' then
            local fields = {}
            for k, v in pairs(job) do
              fields[#fields + 1] = k
              fields[#fields + 1] = tostring(v)
            end
            if #fields > 0 then redis.call('XADD', KEYS[2], '*', unpack(fields)) end
          end
          redis.call('ZREM', KEYS[1], member)
        end
        if #due > 0 then redis.call('PUBLISH', ARGV[2], #due) end
        return #due
        """;

    // ARGV: group, entry id, consumer.
    private const string RenewScript = """
        local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
        redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
        return 1
        """;
}
