using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;
using Suite.Contracts;

namespace Suite.PipelineWorker.Jobs;

/// <summary>
/// One job as read from a jobs stream: its entry id, fields and the stream (which says its priority). <see cref="Attempts"/> counts earlier entries of the
/// same job that ended in a transient failure (each retry is a new entry), <see cref="Waits"/> the times it was put
/// back only because it could not be claimed (IngestService unreachable, another worker's live lease), which do
/// not count towards dead-lettering.
/// </summary>
internal sealed record JobMessage(string EntryId, IReadOnlyDictionary<string, string> Fields, string Stream)
{
    /// <summary>The job's priority: that of the stream it was read from.</summary>
    public string Priority => JobStreams.PriorityOf(Stream);

    public string? DocumentId => Fields.GetValueOrDefault(JobStreams.DocumentIdField);

    public string? TraceParent => Fields.GetValueOrDefault(JobStreams.TraceParentField);

    public int Attempts => Number(JobStreams.AttemptsField);

    public int Waits => Number(JobStreams.WaitsField);

    public string? LastError => Fields.GetValueOrDefault(JobStreams.LastErrorField);

    public static JobMessage From(StreamEntry entry, string stream)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!entry.IsNull)
        {
            foreach (var value in entry.Values)
            {
                fields[value.Name.ToString()] = value.Value.ToString();
            }
        }

        return new JobMessage(entry.Id.ToString(), fields, stream);
    }

    /// <summary>
    /// The job to add again after this delivery, as a new entry (whose own delivery count starts afresh): the deliveries
    /// used so far move into the <c>attempts</c> field — all of them after a transient failure
    /// (<paramref name="countsAsAttempt"/>), all but this one after a wait, which also counts one more wait. So crashes
    /// before a wait still count towards dead-lettering. It keeps the priority of the stream it came from (field
    /// <c>priority</c>), so the retry set brings it back to that stream.
    /// </summary>
    public JobMessage Next(bool countsAsAttempt, string reason, long deliveries)
    {
        var used = Math.Max(Attempts, countsAsAttempt ? deliveries : deliveries - 1);
        var fields = new Dictionary<string, string>(Fields, StringComparer.Ordinal)
        {
            [JobStreams.RetryOfField] = EntryId,
            [JobStreams.LastErrorField] = reason.Length <= 2000 ? reason : reason[..2000],
            [JobStreams.AttemptsField] = used.ToString(CultureInfo.InvariantCulture),
            [JobStreams.PriorityField] = Priority,
        };
        if (!countsAsAttempt)
        {
            fields[JobStreams.WaitsField] = (Waits + 1).ToString(CultureInfo.InvariantCulture);
        }

        return new JobMessage(EntryId, fields, Stream);
    }

    /// <summary>The same job carrying another W3C trace context (unchanged when <paramref name="traceParent"/> is null).</summary>
    public JobMessage WithTraceParent(string? traceParent)
    {
        if (traceParent is null)
        {
            return this;
        }

        return this with { Fields = new Dictionary<string, string>(Fields, StringComparer.Ordinal) { [JobStreams.TraceParentField] = traceParent } };
    }

    /// <summary>The retry set's member: the fields as a JSON object of strings (read back by a Lua script and by IngestService).</summary>
    public string ToJson() => JsonSerializer.Serialize(Fields);

    private int Number(string field) =>
        Fields.TryGetValue(field, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}

/// <summary>
/// Delay before a job is delivered again: base × 2^(n-1), capped, with "equal jitter" (half fixed, half random) so
/// that jobs failing together do not come back together.
/// </summary>
internal static class RetryBackoff
{
    public static TimeSpan For(int n, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        var exponent = Math.Clamp(n - 1, 0, 30);
        var nominal = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds((nominal / 2) + (Random.Shared.NextDouble() * nominal / 2));
    }
}
