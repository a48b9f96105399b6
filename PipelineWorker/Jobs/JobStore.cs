using StackExchange.Redis;
using Suite.Contracts;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// The worker's Redis operations on the work queue. Every step that changes two things (acknowledge and delete,
/// move to the retry set, move to the dead-letter stream, bring due retries back) is one Lua script, so a crash or a
/// lost connection can never leave a job in both places or in none. Scripts read the time from Redis (TIME), so
/// workers with skewed clocks agree on when a retry is due. There is a jobs stream per priority (Req LS-2); every
/// operation on an entry names the stream it came from (<see cref="JobMessage.Stream"/>).
/// </summary>
internal sealed class JobStore(IConnectionMultiplexer redis)
{
    private static readonly RedisKey[] JobsKeys = [JobStreams.Jobs, JobStreams.BatchJobs];

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Creates the consumer group (and the stream) on every jobs stream unless it exists.</summary>
    public async Task EnsureGroupAsync()
    {
        foreach (var stream in JobStreams.AllJobs)
        {
            try
            {
                await Db.StreamCreateConsumerGroupAsync(stream, JobStreams.ConsumerGroup, StreamPosition.Beginning, createStream: true);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // The group exists already: the normal case.
            }
        }
    }

    /// <summary>
    /// Delivers the next job to this consumer by the priority rule (one script, so concurrent workers see one order):
    /// when <paramref name="agedAllowed"/> and the oldest batch job nobody has been given yet has waited at least
    /// <paramref name="batchMaxWait"/> (by its entry id, Redis clock), that one; else the next interactive job; else
    /// the next batch job. Null when both streams have nothing new. NOGROUP when a group is missing.
    /// </summary>
    public async Task<TakenJob?> TakeNextAsync(string consumer, TimeSpan batchMaxWait, bool agedAllowed)
    {
        var result = (RedisResult[]?)await Db.ScriptEvaluateAsync(TakeScript, JobsKeys,
            [JobStreams.ConsumerGroup, consumer, (long)batchMaxWait.TotalMilliseconds, agedAllowed ? 1 : 0]);
        if (result is null || result.Length < 3)
        {
            return null;
        }

        var stream = (int)result[0] == 2 ? JobStreams.BatchJobs : JobStreams.Jobs;
        var fields = new NameValueEntry[(result.Length - 3) / 2];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = new NameValueEntry((RedisValue)result[3 + (2 * i)], (RedisValue)result[4 + (2 * i)]);
        }

        return new TakenJob(JobMessage.From(new StreamEntry((RedisValue)result[2], fields), stream), result[1].ToString() == "aged");
    }

    /// <summary>This consumer's own pending entries in <paramref name="stream"/> after <paramref name="after"/> (re-reading them counts as a delivery).</summary>
    public Task<StreamEntry[]> ReadOwnPendingAsync(string stream, string consumer, RedisValue after, int count) =>
        Db.StreamReadGroupAsync(stream, JobStreams.ConsumerGroup, consumer, after, count);

    public Task<StreamAutoClaimResult> AutoClaimAsync(string stream, string consumer, TimeSpan minIdle, RedisValue cursor) =>
        Db.StreamAutoClaimAsync(stream, JobStreams.ConsumerGroup, consumer, (long)minIdle.TotalMilliseconds, cursor, count: 1);

    /// <summary>How often the entry has been delivered (XPENDING), 1 when Redis no longer lists it as pending.</summary>
    public async Task<long> DeliveryCountAsync(JobMessage job)
    {
        var pending = await Db.StreamPendingMessagesAsync(job.Stream, JobStreams.ConsumerGroup, 1, RedisValue.Null, job.EntryId, job.EntryId);
        return pending.Length > 0 ? Math.Max(1, pending[0].DeliveryCount) : 1;
    }

    /// <summary>The job is done (or can never be done): XACK and XDEL, so the stream keeps only live jobs.</summary>
    public Task AckAsync(JobMessage job) =>
        Db.ScriptEvaluateAsync(AckScript, [job.Stream], [JobStreams.ConsumerGroup, job.EntryId]);

    /// <summary>
    /// Moves the job into the retry set, due after <paramref name="delay"/>, and acknowledges its entry, atomically.
    /// Refused (false) when another consumer owns the entry now: it is that consumer's job. The member keeps the
    /// job's <c>priority</c> field, so it comes back to the same stream.
    /// </summary>
    public async Task<bool> RetryLaterAsync(string consumer, JobMessage next, TimeSpan delay)
    {
        var due = (long)await Db.ScriptEvaluateAsync(RetryScript, [next.Stream, JobStreams.Delayed],
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
        var moved = (long)await Db.ScriptEvaluateAsync(DeadLetterScript, [job.Stream, JobStreams.DeadLetters],
            [JobStreams.ConsumerGroup, job.EntryId, consumer, .. fields]);
        return moved > 0;
    }

    /// <summary>
    /// Brings retries that are due back into the stream of their <c>priority</c> field (absent: interactive) with
    /// XADD + ZREM, at most <paramref name="max"/>; returns how many.
    /// </summary>
    public async Task<long> PromoteDueAsync(int max) =>
        (long)await Db.ScriptEvaluateAsync(PromoteScript, [JobStreams.Delayed, JobStreams.Jobs, JobStreams.BatchJobs],
            [max, JobStreams.WakeChannel, JobStreams.PriorityField, JobPriority.Batch]);

    /// <summary>
    /// Resets the idle time of our own pending entry (XCLAIM … JUSTID, which does not count as a delivery), so nobody
    /// reclaims it while we work. False when the entry is no longer ours (reclaimed or acknowledged meanwhile).
    /// </summary>
    public async Task<bool> RenewAsync(string consumer, JobMessage job) =>
        (long)await Db.ScriptEvaluateAsync(RenewScript, [job.Stream], [JobStreams.ConsumerGroup, job.EntryId, consumer]) > 0;

    // KEYS: interactive stream, batch stream. ARGV: group, consumer, batch max wait (ms), aged batch allowed (1/0).
    // Returns {} when neither stream has a new entry, else {1 = interactive | 2 = batch, reason, id, field, value, ...}
    // with reason 'aged' (a batch job past the maximum wait went first), 'interactive' or 'batch' (interactive had none).
    // The oldest undelivered batch entry is the first one after the group's last-delivered-id (XINFO GROUPS).
    private const string TakeScript = """
        local function take(key)
          local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', key, '>')
          if r and r[1] and r[1][2] and #r[1][2] > 0 then return r[1][2][1] end
          return nil
        end
        local function oldestWaitingMs(key)
          if redis.call('EXISTS', key) == 0 then return nil end
          for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
            local name, last
            for i = 1, #g, 2 do
              if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
            end
            if name == ARGV[1] then
              local first = redis.call('XRANGE', key, '(' .. last, '+', 'COUNT', 1)
              if #first > 0 then return tonumber(string.match(first[1][1], '^(%d+)')) end
              return nil
            end
          end
          return nil
        end
        local function reply(which, reason, entry)
          local out = {which, reason, entry[1]}
          for _, v in ipairs(entry[2]) do out[#out + 1] = v end
          return out
        end
        local maxWait = tonumber(ARGV[3])
        if ARGV[4] == '1' and maxWait > 0 then
          local since = oldestWaitingMs(KEYS[2])
          if since then
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            if now - since >= maxWait then
              local e = take(KEYS[2])
              if e then return reply(2, 'aged', e) end
            end
          end
        end
        local e = take(KEYS[1])
        if e then return reply(1, 'interactive', e) end
        e = take(KEYS[2])
        if e then return reply(2, 'batch', e) end
        return {}
        """;

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

    // KEYS: retry set, interactive stream, batch stream. ARGV: max, wake channel, priority field, batch priority.
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
            local stream = KEYS[2]
            if job[ARGV[3]] == ARGV[4] then stream = KEYS[3] end
            if #fields > 0 then redis.call('XADD', stream, '*', unpack(fields)) end
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

/// <summary>A job just delivered by <see cref="JobStore.TakeNextAsync"/>; <paramref name="Aged"/>: a batch job taken first because it waited past the maximum.</summary>
internal sealed record TakenJob(JobMessage Job, bool Aged);
